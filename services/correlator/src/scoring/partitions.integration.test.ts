import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { busway, Streams } from '@busway/proto';
import { publishSiteModel } from '@busway/registry';
import { ensureConsumer, ensureStream, fabricStreams } from '@busway/runtime';
import { startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { CorrelatorConfigSchema } from '../config.js';
import { allConsumers } from '../consumers.js';
import { natsPartitionConfig, parseNormSubject, partitionOf } from '../partitioning.js';
import { buildScenario, DEFAULT_HARNESS } from './harness.js';
import { CorrelatorProcess, logPath, metricSum, publishNorm, readAll } from './live.js';

const PARTITIONS = 4;
const ENV = {
  BUSWAY_SITE: 'ai1',
  BUSWAY_LOG_LEVEL: 'info',
  BUSWAY_CONFIG: '',
  BUSWAY_OUT_OF_ORDERNESS_MS: '3000',
  BUSWAY_IDLE_TIMEOUT_MS: '5000',
  BUSWAY_DEDUP_DEPTH: '32',
  BUSWAY_CHECKPOINT_INTERVAL_MS: '300',
  BUSWAY_PARTITION_COUNT: String(PARTITIONS),
  BUSWAY_REPLICAS: '2',
};

describe('two correlator replicas on a nats-server that partitions NORM by row', () => {
  let nats: TestServer;
  let redis: TestServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let kv: Redis;
  const dir = mkdtempSync(join(tmpdir(), 'busway-partitions-it-'));
  // four rows: with 4 partitions by row, ai1.h1.r1..r4 land on partitions 0, 1, 2, 3
  const scenario = buildScenario({
    ...DEFAULT_HARNESS,
    durationMs: 3 * 60_000,
    seed: 9,
    sim: { rows: 4, racksPerRow: 2 },
  });
  let replicas: CorrelatorProcess[] = [];
  const config = CorrelatorConfigSchema.parse({
    ...ENV,
    site: 'ai1',
    partitionCount: PARTITIONS,
    replicas: 2,
  });

  before(async () => {
    const configFile = join(dir, 'nats.conf');
    writeFileSync(configFile, natsPartitionConfig(PARTITIONS, 'row'));
    [nats, redis] = await Promise.all([startNats([], { configFile }), startRedis()]);
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    kv = new Redis(redis.url);
    await publishSiteModel(kv, scenario.registry.model);
    for (const s of fabricStreams()) await ensureStream(jsm, s);
    for (const c of allConsumers(config)) await ensureConsumer(jsm, c);
  });

  after(async () => {
    for (const r of replicas) await r.stop();
    kv?.disconnect();
    await nc?.close();
    await Promise.all([nats?.dispose(), redis?.dispose()]);
  });

  it('stores each sample under its partition, lets each replica own whole partitions, and keeps per-point order', async () => {
    const env = { ...ENV, NATS_URL: nats.url, REDIS_URL: redis.url };
    replicas = [0, 1].map(
      (i) => new CorrelatorProcess({ ...env, BUSWAY_REPLICA_INDEX: String(i) }, logPath(dir, `replica-${i}`)),
    );
    for (const r of replicas) await r.start();
    await publishNorm(nc, scenario.delivered);
    await waitFor(
      // the samples' and the events' consumers of every partition: metrics are read right after
      'every partition drained and acknowledged',
      async () => {
        for (const c of await Promise.all(
          allConsumers(config).map((spec) => jsm.consumers.info(spec.stream, spec.durable)),
        ))
          if (c.num_pending > 0 || c.num_ack_pending > 0) return false;
        return true;
      },
      60_000,
      250,
    );

    // the server appended the partition the correlator computes for every rack subject
    const norm = await readAll(nc, jsm, Streams.Norm.name, 'norm.v1.samples.');
    const parts = new Set<number>();
    for (const m of norm) {
      const parsed = parseNormSubject(m.subject);
      assert.ok(parsed?.partition !== undefined, `${m.subject} carries a partition`);
      assert.equal(parsed.partition, partitionOf(parsed.tokens, PARTITIONS, 'row'));
      parts.add(parsed.partition);
    }
    assert.equal(parts.size, PARTITIONS, 'every partition has input');

    // each replica processed exactly its partitions' samples (and every event, once per partition it owns)
    const samples = norm.reduce((n, m) => n + busway.v1.SampleBatch.decode(m.data).samples.length, 0);
    const events = scenario.delivered.filter((m) => m.subject.startsWith('norm.v1.events.')).length;
    const metrics = await Promise.all(replicas.map((r) => r.metrics()));
    const owned = metrics.map((m) => metricSum(m, 'busway_correlator_partitions_owned'));
    assert.deepEqual(owned, [2, 2]);
    const seen = metrics.map((m) =>
      metricSum(m, 'busway_samples_total', { stage: 'correlate', direction: 'in' }),
    );
    assert.ok(
      seen.every((n) => n > 0),
      `both replicas worked: ${seen.join(', ')}`,
    );
    const jobEvents = scenario.delivered
      .filter((m) => m.subject.startsWith('norm.v1.events.'))
      .reduce((n, m) => n + busway.v1.EventBatch.decode(m.data).events.length, 0);
    assert.equal(seen[0]! + seen[1]!, samples, 'no sample processed twice, none skipped');
    const eventsSeen = metrics.map((m) => metricSum(m, 'busway_correlator_events_total'));
    assert.equal(eventsSeen[0]! + eventsSeen[1]!, jobEvents * PARTITIONS, 'every event, once per partition');
    assert.ok(events > 0);

    const unique = new Set(
      norm.flatMap((m) =>
        busway.v1.SampleBatch.decode(m.data).samples.map((s) => `${s.pointId}|${s.eventTimeNs?.toString()}`),
      ),
    );
    const readOrdered = async () =>
      (await readAll(nc, jsm, Streams.Ordered.name, 'ordered.v1.samples.')).flatMap(
        (m) => busway.v1.SampleBatch.decode(m.data).samples,
      );
    // the last samples leave once their sources count as idle (5 s): wait for them rather than a fixed time
    await waitFor(
      'the buffers to empty',
      async () => (await readOrdered()).length >= unique.size,
      30_000,
      500,
    ).catch(
      () => undefined, // the equality below says what is missing
    );
    const ordered = await readOrdered();
    const last = new Map<string, bigint>();
    for (const s of ordered) {
      const t = BigInt(s.eventTimeNs?.toString() ?? '0');
      assert.ok((last.get(s.pointId ?? '') ?? -1n) < t, `per-point order of ${s.pointId}`);
      last.set(s.pointId ?? '', t);
    }
    assert.equal(ordered.length, unique.size, 'every distinct sample ordered once');

    // incidents came from jobs on every row, so from both replicas' partitions
    const incidents = (await readAll(nc, jsm, Streams.Incidents.name)).map((m) =>
      busway.v1.Incident.decode(m.data),
    );
    const rows = new Set(incidents.filter((i) => i.kind === 'job-power-thermal').map((i) => i.path?.row));
    assert.ok(rows.size >= 3, `job incidents from rows ${[...rows].join(', ')}`);
    assert.equal(new Set(incidents.map((i) => i.id)).size, incidents.length, 'no incident twice');
  });
});
