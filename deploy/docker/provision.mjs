#!/usr/bin/env node
// The chart's provisioning job (also usable by hand): creates or updates every fabric stream and the durable
// consumers of the named workers, connecting like a worker does (NATS_URL, NATS_USER/NATS_PASSWORD or NATS_CREDS,
// NATS_TLS_*, BUSWAY_CONFIG) as the provisioner user, the only one with stream-admin rights. Idempotent.
//   node deploy/docker/provision.mjs [--workers a,b,c] [--site-model file.json]
// BUSWAY_STREAM_REPLICAS sets the streams' replicas (3 on a production cluster); REDIS_URL is needed with --site-model.
import { parseArgs } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { WORKERS } from '@busway/cli';
import { publishSiteModel, readSiteModel } from '@busway/registry';
import {
  PROVISIONER,
  RuntimeConfigSchema,
  connectNats,
  createLogger,
  ensureConsumer,
  ensureStream,
  fabricStreams,
  loadConfig,
  natsOptionsOf,
} from '@busway/runtime';

const { values } = parseArgs({
  options: { workers: { type: 'string' }, 'site-model': { type: 'string' } },
});
const config = loadConfig(RuntimeConfigSchema, { worker: PROVISIONER });
const log = createLogger(PROVISIONER, config.logLevel);
const replicas = Number.parseInt(process.env.BUSWAY_STREAM_REPLICAS ?? '1', 10);
if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
  throw new Error(`BUSWAY_STREAM_REPLICAS must be 1 to 5, not '${process.env.BUSWAY_STREAM_REPLICAS}'`);
}
const wanted = values.workers
  ? values.workers
      .split(',')
      .map((w) => w.trim())
      .filter(Boolean)
  : undefined;
const unknown = (wanted ?? []).filter((w) => !WORKERS.some((m) => m.name === w));
const entries = wanted ? WORKERS.filter((m) => wanted.includes(m.name)) : WORKERS;
// catalog entries load their module lazily
const modules = await Promise.all(
  entries.map(async (e) => {
    const mod = typeof e.load === 'function' ? await e.load() : e;
    if (!mod?.configSchema) throw new Error(`worker ${e.name}: its module did not load`);
    return mod;
  }),
);

// a worker the CLI does not run (yet) has no consumers to make: say so, do not fail the install
if (unknown.length > 0)
  log.warn({ workers: unknown }, 'not in the CLI catalog: no consumers provisioned for them');
const nc = await connectNats(natsOptionsOf(config, PROVISIONER), log);
let streams = 0;
let consumers = 0;
try {
  const jsm = await jetstreamManager(nc);
  for (const spec of fabricStreams(replicas, undefined, config.streamLimits ?? {})) {
    await ensureStream(jsm, spec, log);
    streams++;
  }
  for (const mod of modules) {
    const own = loadConfig(mod.configSchema, { worker: mod.name });
    for (const spec of mod.consumers(own)) {
      await ensureConsumer(jsm, spec, log);
      consumers++;
    }
  }
} finally {
  await nc.close();
}
let registryVersion;
if (values['site-model']) {
  const { Redis } = await import('ioredis');
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  try {
    registryVersion = await publishSiteModel(redis, readSiteModel(values['site-model']));
  } finally {
    redis.disconnect();
  }
}
log.info({ streams, consumers, registryVersion }, 'provisioned');
process.stdout.write(`${JSON.stringify({ streams, consumers, registryVersion })}\n`);
