import { jetstreamManager } from '@nats-io/jetstream';
import { Redis } from 'ioredis';
import { publishSiteModel, readSiteModel, type SiteModel } from '@busway/registry';
import {
  createLogger,
  ensureConsumer,
  ensureStream,
  fabricStreams,
  loadConfig,
  PROVISIONER,
  RuntimeConfigSchema,
} from '@busway/runtime';
import { connectCli } from '../nats-connect.js';
import type { WorkerEntry } from '../workers.js';

export interface ProvisionOptions {
  natsUrl: string;
  redisUrl?: string;
  /** Site model to load into the registry: a file path, or a model already built. */
  siteModel?: string | SiteModel;
  /** Workers whose consumers to provision: each module is loaded here. */
  workers: readonly WorkerEntry[];
  env?: NodeJS.ProcessEnv;
  /** Log level of the per-stream and per-consumer lines. @default $BUSWAY_LOG_LEVEL or info */
  logLevel?: string;
}

/** Creates or updates every stream and every worker's consumers, and loads the site model. Idempotent. */
export async function provision(
  opts: ProvisionOptions,
): Promise<{ streams: number; consumers: number; registryVersion?: number }> {
  const log = createLogger('provision', opts.logLevel ?? process.env.BUSWAY_LOG_LEVEL ?? 'info');
  const nc = await connectCli(opts.natsUrl, 'provision', opts.env);
  let streams = 0;
  let consumers = 0;
  try {
    const jsm = await jetstreamManager(nc);
    // the limits every worker applies when it provisions (streamLimits): never reset them to the defaults
    const { streamLimits, streamReplicas } = loadConfig(RuntimeConfigSchema, {
      env: opts.env,
      worker: PROVISIONER,
    });
    for (const s of fabricStreams(streamReplicas, undefined, streamLimits)) {
      await ensureStream(jsm, s, log);
      streams++;
    }
    for (const entry of opts.workers.filter((w) => w.consumes)) {
      const mod = await entry.load(); // bridges have no consumers: their libraries stay unloaded
      const config = loadConfig(mod.configSchema, { env: opts.env, worker: mod.name });
      for (const c of mod.consumers(config)) {
        await ensureConsumer(jsm, c, log);
        consumers++;
      }
    }
  } finally {
    await nc.close();
  }
  let registryVersion: number | undefined;
  if (opts.siteModel && opts.redisUrl) {
    const model = typeof opts.siteModel === 'string' ? readSiteModel(opts.siteModel) : opts.siteModel;
    const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 2 });
    try {
      registryVersion = await publishSiteModel(redis, model);
      log.info(
        { assets: model.assets.length, points: model.points.length, version: registryVersion },
        'site model loaded',
      );
    } finally {
      redis.disconnect();
    }
  }
  return { streams, consumers, registryVersion };
}
