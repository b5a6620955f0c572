// Provisioning as a production cluster's provisioning job does it: every stream and KV bucket with R replicas.
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { Redis } from 'ioredis';
import type { WorkerEntry } from '@busway/cli';
import { publishSiteModel, type SiteModel } from '@busway/registry';
import { ensureConsumer, ensureStream, fabricStreams, loadConfig } from '@busway/runtime';

/** KV buckets the pipeline's workers open themselves (with one replica unless they exist already). */
export const PIPELINE_KV_BUCKETS = ['sparkplug-births'] as const;

/**
 * Creates every fabric stream with `replicas`, the consumers of the consuming workers, and the KV buckets the
 * workers would otherwise create as R1 (a bucket on one node is lost with that node); loads the site model.
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
  for (const bucket of PIPELINE_KV_BUCKETS) {
    // the stream nats.js makes for a KV bucket with history 1; Kvm.create() binds to it as it is
    await jsm.streams.add({
      name: `KV_${bucket}`,
      subjects: [`$KV.${bucket}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_msgs_per_subject: 1,
      max_bytes: -1,
      max_msg_size: -1,
      discard: DiscardPolicy.New,
      allow_direct: true,
      allow_rollup_hdrs: true,
      num_replicas: replicas,
    });
  }
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
