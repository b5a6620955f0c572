import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { RuntimeConfig } from './config.js';
import { startHealthServer, type HealthServer } from './health.js';
import { createLogger } from './logger.js';
import { StageMetrics } from './metrics.js';
import { serverFeatures, type ServerFeatures } from './features.js';
import { connectNats, natsOptionsOf } from './nats.js';
import { PubAckPublisher } from './pub-acks.js';
import { initTracing, type Tracing } from './tracing.js';

type StopHook = () => Promise<void> | void;

/** What every worker gets: logger, metrics, NATS + JetStream, health endpoints, ordered shutdown. */
export class WorkerRuntime {
  private ready = false;
  private stopHooks: StopHook[] = [];
  private stopping?: Promise<void>;

  private constructor(
    readonly name: string,
    readonly config: RuntimeConfig,
    readonly log: Logger,
    readonly metrics: StageMetrics,
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly health: HealthServer,
    private readonly tracing: Tracing,
    /** JetStream publishes at a fraction of `js.publish`'s CPU (see pub-acks.ts): for every output. */
    readonly publisher: PubAckPublisher,
  ) {}

  static async start(name: string, config: RuntimeConfig): Promise<WorkerRuntime> {
    const log = createLogger(name, config.logLevel);
    // how long the process took to load shows against the kill or restart that started it
    log.info({ pid: process.pid, uptimeMs: Math.round(process.uptime() * 1000) }, 'starting');
    const metrics = new StageMetrics(name);
    const tracing = initTracing(name, config.otlpEndpoint, metrics.registry);
    const nc = await connectNats(natsOptionsOf(config, name), log);
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    // The health server starts first and asks for readiness through this holder once the runtime exists.
    const holder: { rt?: WorkerRuntime } = {};
    const health = await startHealthServer({
      port: config.httpPort,
      live: () => true,
      ready: () => (holder.rt ? holder.rt.ready && !nc.isClosed() && !holder.rt.stopping : false),
      registry: metrics.registry,
    });
    const publisher = new PubAckPublisher(nc, undefined, (stream) => metrics.duplicates.inc({ stream }));
    const rt = new WorkerRuntime(name, config, log, metrics, nc, js, jsm, health, tracing, publisher);
    holder.rt = rt;
    metrics.reportReady(() => rt.ready && !nc.isClosed() && !rt.stopping);
    if (config.httpPortFile) announcePort(config.httpPortFile, health.port);
    log.info({ httpPort: health.port }, 'health and metrics endpoints up');
    return rt;
  }

  /** What the connected server supports; pass `termWithReason` to consume loops. */
  features(): ServerFeatures {
    return serverFeatures(this.nc);
  }

  setReady(ready: boolean): void {
    this.ready = ready;
  }

  /** Hooks run last-registered first: consumers stop before the connection they use drains. */
  onStop(hook: StopHook): void {
    this.stopHooks.push(hook);
  }

  /** Graceful shutdown: stop pulling, finish in-flight work, drain NATS, flush spans. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.ready = false;
      this.log.info('stopping');
      for (const hook of [...this.stopHooks].reverse()) {
        try {
          await hook();
        } catch (err) {
          this.log.error({ err }, 'stop hook failed');
        }
      }
      await this.nc.drain().catch((err: unknown) => this.log.warn({ err }, 'drain failed'));
      await this.health.close();
      await this.tracing.shutdown().catch(() => undefined);
      this.log.info('stopped');
    })();
    return this.stopping;
  }

  /** SIGTERM / SIGINT stop the worker gracefully; a second signal exits at once. */
  stopOnSignals(exit: (code: number) => void = (code) => process.exit(code)): void {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) return exit(1);
      signalled = true;
      this.log.info({ signal }, 'signal received');
      this.stop().then(
        () => exit(0),
        () => exit(1),
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
}

/** Writes the bound port whole (a temp file renamed over it): a reader never sees half a number. */
function announcePort(file: string, port: number): void {
  writeFileSync(`${file}.tmp`, String(port));
  renameSync(`${file}.tmp`, file);
}

/** The health port a worker wrote to its `httpPortFile`; undefined until it has. */
export function announcedPort(file: string): number | undefined {
  return existsSync(file) ? Number(readFileSync(file, 'utf8')) || undefined : undefined;
}
