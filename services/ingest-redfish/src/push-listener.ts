import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ConfigError, type Logger, type WorkerRuntime } from '@busway/runtime';
import type { IngestRedfishConfig } from './config.js';
import type { Settled } from './report-pipeline.js';
import { STAGE } from './summaries.js';

/** Hands one pushed body to an endpoint's pipeline. */
export type PushHandler = (body: string) => Promise<Settled>;

/** Outcomes a service may take as delivered: anything else gets 503 and the service retries. */
const DELIVERED = new Set<Settled | 'timeout'>(['stored', 'repeat', 'dead-lettered', 'skipped']);

/**
 * The HTTP(S) listener EventDestinations deliver to. Each endpoint gets its own path with a random token in it
 * (`/redfish-events/<endpoint>/<token>`), so a POST is routed to its endpoint and a stranger's POST gets 404. A push
 * is answered 204 only once JetStream stored it (or dead-lettered it, or knew it already); while JetStream is slow
 * or the endpoint's buffer is full it gets 503 with Retry-After, so the service keeps it and retries.
 */
export class PushListener {
  private readonly routes = new Map<string, PushHandler>();
  private server!: Server;
  baseUrl = '';

  private constructor(
    private readonly rt: WorkerRuntime,
    private readonly config: IngestRedfishConfig,
    private readonly log: Logger,
  ) {}

  static async start(rt: WorkerRuntime, config: IngestRedfishConfig): Promise<PushListener> {
    const listener = new PushListener(rt, config, rt.log.child({ listener: 'push' }));
    const handle = (req: IncomingMessage, res: ServerResponse) => void listener.handle(req, res);
    let tls: { cert: Buffer; key: Buffer } | undefined;
    if (config.pushTlsCertFile && config.pushTlsKeyFile) {
      try {
        tls = { cert: readFileSync(config.pushTlsCertFile), key: readFileSync(config.pushTlsKeyFile) };
      } catch (err) {
        throw new ConfigError(`pushTlsCertFile / pushTlsKeyFile: ${(err as Error).message}`, { cause: err });
      }
    }
    listener.server = tls ? createHttpsServer(tls, handle) : createHttpServer(handle);
    await new Promise<void>((resolve, reject) => {
      listener.server.once('error', reject);
      listener.server.listen(config.pushPort, config.pushAddress, () => resolve());
    });
    const { port } = listener.server.address() as AddressInfo;
    const host =
      config.pushAddress === '0.0.0.0' || config.pushAddress === '::' ? '127.0.0.1' : config.pushAddress;
    listener.baseUrl = (config.pushBaseUrl ?? `${tls ? 'https' : 'http'}://${host}:${port}`).replace(
      /\/+$/,
      '',
    );
    listener.log.info({ port, baseUrl: listener.baseUrl, tls: Boolean(tls) }, 'Redfish push listener up');
    if (!config.pushBaseUrl && host === '127.0.0.1' && config.pushAddress !== '127.0.0.1')
      listener.log.warn(
        'pushBaseUrl not set: services are told to push to 127.0.0.1; set it to an address they reach',
      );
    return listener;
  }

  /** A new destination URL for an endpoint (a new token each time: an old subscription's pushes stop routing). */
  route(endpointId: string, handler: PushHandler): string {
    for (const path of this.routes.keys())
      if (path.startsWith(`/redfish-events/${endpointId}/`)) this.routes.delete(path);
    const path = `/redfish-events/${endpointId}/${randomBytes(12).toString('hex')}`;
    this.routes.set(path, handler);
    return `${this.baseUrl}${path}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const handler = this.routes.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!handler) return reply(res, 404);
    if (req.method !== 'POST') return reply(res, 405);
    let body: string;
    try {
      body = await readBody(req, this.config.maxReportBytes);
    } catch (err) {
      this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'push-unreadable' });
      this.log.warn({ err: (err as Error).message }, 'push body unreadable');
      return reply(res, 413);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), this.config.pushAckTimeoutMs)),
    );
    const settled = await Promise.race([handler(body), timeout]);
    clearTimeout(timer);
    if (DELIVERED.has(settled)) return reply(res, 204);
    this.rt.metrics.messages.inc({
      stage: STAGE,
      outcome: `push-${settled === 'timeout' ? 'ack-timeout' : 'deferred'}`,
    });
    reply(res, 503, { 'Retry-After': '1' });
  }
}

function reply(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, headers);
  res.end();
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new Error(`body over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
