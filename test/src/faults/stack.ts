// The system under fault: a 3-node JetStream cluster with R3 streams, durable Redis and Mosquitto, and every
// pipeline worker as its own process under the CLI's Supervisor, as `busway up` runs them.
import { mkdirSync } from 'node:fs';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { PIPELINE, Supervisor } from '@busway/cli';
import type { SiteModel } from '@busway/registry';
import { loadConfig } from '@busway/runtime';
import { buildSiteModel, SimulatorConfigSchema } from '@busway/simulator';
import {
  startDurableMosquitto,
  startDurableRedis,
  startNatsCluster,
  type NatsCluster,
  type TestServer,
  waitFor,
} from '@busway/testkit';
import { provisionReplicated } from './provision-replicated.js';

export const SITE = 'ai1';
/** The workers the simulated flow passes through, in flow order (ingest-dsx runs too but carries nothing here). */
export const FLOW_WORKERS = [
  'ingest-sparkplug',
  'sparkplug-decode',
  'normalizer',
  'correlator',
  'anomaly',
  'fanout',
] as const;
export type FlowWorker = (typeof FLOW_WORKERS)[number];
/**
 * The pipeline's workers the stack runs: all but the read API, which carries no samples and listens on a fixed
 * port (another stack on the machine would hold it).
 */
export const STACK_WORKERS: readonly string[] = PIPELINE.map((w) => w.name).filter((n) => n !== 'api');

export interface StackOptions {
  /** Folder for the workers' log files. */
  logDir: string;
  /** Seed of the simulated plant. */
  seed: number;
  /** Replicas of every stream. @default 3 */
  replicas?: number;
  /** Environment of the simulator and the site model built from it (plant size, intervals). */
  simulatorEnv?: Record<string, string>;
  /** Edits the site model before it is loaded (extra sources of a scenario). */
  extendModel?: (model: SiteModel) => SiteModel;
}

/** Everything a scenario touches. dispose() stops it all and deletes the servers' data dirs. */
export class FaultStack {
  private constructor(
    readonly cluster: NatsCluster,
    readonly redis: TestServer,
    readonly broker: TestServer,
    readonly env: NodeJS.ProcessEnv,
    readonly sup: Supervisor,
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly siteModel: SiteModel,
    readonly logDir: string,
  ) {}

  static async start(opts: StackOptions): Promise<FaultStack> {
    mkdirSync(opts.logDir, { recursive: true });
    const [cluster, redis, broker] = await Promise.all([
      startNatsCluster({ size: 3 }),
      startDurableRedis(),
      startDurableMosquitto(),
    ]);
    const replicas = opts.replicas ?? 3;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NATS_URL: cluster.url,
      REDIS_URL: redis.url,
      MQTT_URL: broker.url,
      BUSWAY_SITE: SITE,
      BUSWAY_LOG_LEVEL: process.env.BUSWAY_FAULTS_LOG_LEVEL ?? 'info',
      BUSWAY_CONFIG: '',
      // provisioned once here with R3, as a provisioning job does: a worker provisioning at start would
      // otherwise bring every stream back to one replica
      BUSWAY_PROVISION: 'false',
      BUSWAY_STREAM_REPLICAS: String(replicas),
      BUSWAY_SEED: String(opts.seed),
      ...opts.simulatorEnv,
    };
    const base = buildSiteModel(loadConfig(SimulatorConfigSchema, { env, worker: 'simulator' }));
    const siteModel = opts.extendModel ? opts.extendModel(base) : base;
    const nc = await connect({ servers: cluster.url.split(','), maxReconnectAttempts: -1 });
    // a just-elected meta leader may not answer the account info yet on a loaded machine: ask again
    const jsm = await waitFor(
      'JetStream to answer',
      () => jetstreamManager(nc, { timeout: 10_000 }),
      60_000,
      500,
    );
    await provisionReplicated({ jsm, redisUrl: redis.url, siteModel, workers: PIPELINE, env, replicas });
    const sup = new Supervisor(env, opts.logDir);
    const stack = new FaultStack(cluster, redis, broker, env, sup, nc, jsm, siteModel, opts.logDir);
    for (const w of STACK_WORKERS) await sup.start(w);
    await sup.waitReady(60_000);
    return stack;
  }

  async startSimulator(): Promise<void> {
    await this.sup.start('simulator');
    await this.sup.waitReady(60_000);
  }

  /** Graceful: the edge nodes publish their NDEATH; what they published is with the broker. */
  async stopSimulator(): Promise<void> {
    await this.sup.stop('simulator');
  }

  async dispose(): Promise<void> {
    await this.sup.stopAll(['simulator', ...STACK_WORKERS]);
    await this.nc.close().catch(() => undefined);
    await Promise.all([this.cluster.dispose(), this.redis.dispose(), this.broker.dispose()]);
  }
}
