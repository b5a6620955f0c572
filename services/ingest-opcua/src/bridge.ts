import { OPCUACertificateManager } from 'node-opcua';
import type { RunningWorker, WorkerRuntime } from '@busway/runtime';
import type { IngestOpcuaConfig } from './config.js';
import { STAGE } from './delivery.js';
import { EndpointBridge } from './endpoint.js';
import { routeOpcuaLogs } from './opcua-log.js';
import { closeSummaries, createSummaries, type Summaries } from './summaries.js';

/**
 * OPC UA servers → raw samples: one session and one subscription per endpoint, each connecting in the background
 * so that a server that is down delays only itself. One client PKI folder serves every endpoint.
 */
export class OpcuaBridge {
  readonly endpoints: EndpointBridge[] = [];
  private readonly summaries: Summaries;
  private readonly certificates: OPCUACertificateManager;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly config: IngestOpcuaConfig,
  ) {
    this.summaries = createSummaries(rt.log);
    this.certificates = new OPCUACertificateManager({
      rootFolder: config.pkiDir,
      automaticallyAcceptUnknownCertificate: config.acceptUnknownCertificates,
    });
  }

  async start(): Promise<void> {
    routeOpcuaLogs(this.rt.log);
    await this.certificates.initialize();
    const shared = {
      certificates: this.certificates,
      summaries: this.summaries,
      maxBufferBytes: this.config.maxBufferBytes,
      onBytes: () => this.reportBytes(),
    };
    for (const endpoint of this.config.endpoints) {
      const bridge = new EndpointBridge(this.rt, endpoint, shared);
      this.endpoints.push(bridge);
      bridge.start();
    }
    this.rt.log.info(
      {
        pkiDir: this.config.pkiDir,
        endpoints: this.config.endpoints.map((e) => ({
          id: e.id,
          url: e.url,
          securityMode: e.securityMode,
          securityPolicy: e.securityPolicy,
          user: e.user,
          items: e.items.length,
        })),
      },
      'OPC UA endpoints configured',
    );
  }

  private reportBytes(): void {
    const bytes = this.endpoints.reduce((n, e) => n + e.queue.bytes, 0);
    this.rt.metrics.bufferBytes.set({ stage: STAGE }, bytes);
  }

  async stop(): Promise<void> {
    await Promise.all(this.endpoints.map((e) => e.stop()));
    closeSummaries(this.summaries);
    await this.certificates.dispose();
  }
}

export async function startIngestOpcua(rt: WorkerRuntime, config: IngestOpcuaConfig): Promise<RunningWorker> {
  const bridge = new OpcuaBridge(rt, config);
  await bridge.start();
  return { stop: () => bridge.stop() };
}
