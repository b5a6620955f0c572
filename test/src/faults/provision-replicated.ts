// Provisioning as a production cluster's provisioning job does it: every stream with R replicas.
import type { JetStreamManager } from '@nats-io/jetstream';
import { Redis } from 'ioredis';
import type { WorkerEntry } from '@busway/cli';
import { publishSiteModel, type SiteModel } from '@busway/registry';
import { ensureConsumer, ensureStream, fabricStreams, loadConfig } from '@busway/runtime';

/**
 * Creates every fabric stream with `replicas` and the consumers of the consuming workers; loads the site model.
 * The workers create their KV buckets themselves, with the same replicas (BUSWAY_STREAM_REPLICAS).
 */
export async function provisionReplicated(opts: {
  jsm: JetStreamManager;
  redisUrl: string;
  siteModel: SiteModel;
  workers: readonly WorkerEntry[];
  env: NodeJS.ProcessEnv;
  replicas: number;
}): Promise<void> {
  const { jsm, replicas } = opts;
  for (const spec of fabricStreams(replicas)) await ensureStream(jsm, spec);
  for (const entry of opts.workers.filter((w) => w.consumes)) {
    const mod = await entry.load();
    const config = loadConfig(mod.configSchema, { env: opts.env, worker: mod.name });
    for (const c of mod.consumers(config)) await ensureConsumer(jsm, c);
  }
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 2 });
  try {
    await publishSiteModel(redis, opts.siteModel);
  } finally {
    redis.disconnect();
  }
}
