import { readFileSync } from 'node:fs';
import { ConfigError, type RunningWorker, type WorkerRuntime } from '@busway/runtime';
import type { IngestRedfishConfig } from './config.js';
import { EndpointBridge } from './endpoint.js';
import { PushListener } from './push-listener.js';
import { closeSummaries, createSummaries, type Summaries } from './summaries.js';

/** Every configured endpoint in its own loop, and the push listener when pushPort is set. */
export class RedfishBridge {
  private readonly abort = new AbortController();
  private readonly summaries: Summaries;
  readonly endpoints: EndpointBridge[] = [];

  private constructor(
    private readonly rt: WorkerRuntime,
    readonly listener: PushListener | undefined,
  ) {
    this.summaries = createSummaries(rt.log);
  }

  static async start(rt: WorkerRuntime, config: IngestRedfishConfig): Promise<RedfishBridge> {
    // certificates are read once, now: a missing CA file fails the start and names the key
    const cas = config.endpoints.map((e, i) => {
      if (!e.caFile) return undefined;
      try {
        return readFileSync(e.caFile);
      } catch (err) {
        throw new ConfigError(`endpoints.${i}.caFile (${e.id}): ${(err as Error).message}`, { cause: err });
      }
    });
    const listener = config.pushPort > 0 ? await PushListener.start(rt, config) : undefined;
    const bridge = new RedfishBridge(rt, listener);
    for (const [i, endpoint] of config.endpoints.entries()) {
      if (endpoint.insecureSkipVerify)
        rt.log.warn(
          { endpoint: endpoint.id },
          'TLS VERIFICATION IS OFF for this Redfish endpoint (insecureSkipVerify): anyone on the path can read its credentials and forge its data',
        );
      bridge.endpoints.push(
        new EndpointBridge(rt, endpoint, config, cas[i], listener, bridge.summaries, bridge.abort.signal),
      );
    }
    if (bridge.endpoints.length === 0)
      rt.log.warn('no Redfish endpoints configured (endpoints / BUSWAY_ENDPOINTS)');
    for (const e of bridge.endpoints) e.start();
    return bridge;
  }

  /** Ends every loop, deletes the push subscriptions, stores what is held, logs out, closes the listener. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.endpoints.map((e) => e.stop()));
    await this.listener?.close();
    closeSummaries(this.summaries);
    this.rt.log.debug('Redfish bridge stopped');
  }
}

export async function startIngestRedfish(
  rt: WorkerRuntime,
  config: IngestRedfishConfig,
): Promise<RunningWorker> {
  const bridge = await RedfishBridge.start(rt, config);
  return { stop: () => bridge.stop() };
}
