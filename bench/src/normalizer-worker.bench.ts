import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { EventTypes } from '@busway/proto';
import { provision, Supervisor, sumOf, WORKERS } from '@busway/cli';
import { fabricHeaders } from '@busway/runtime';
import { startNats, startRedis, waitFor } from '@busway/testkit';
import type { BenchRow } from './normalizer.bench.js';
import { buildSite, rawMessages } from './site.js';

/**
 * The real normalizer process (`busway run normalizer`) on its own nats-server and Redis, with a registry of
 * `points` points: its resident memory once it has normalized every point several times (steady state),
 * read from its own /metrics, beside the same process's RSS before any input.
 */
export async function benchNormalizerWorker(points: number, passes: number): Promise<BenchRow[]> {
  const [nats, redis] = await Promise.all([startNats(), startRedis()]);
  const env = {
    ...process.env,
    NATS_URL: nats.url,
    REDIS_URL: redis.url,
    BUSWAY_SITE: 'bench',
    BUSWAY_LOG_LEVEL: 'warn',
    BUSWAY_CONFIG: '',
  };
  const sup = new Supervisor(env, mkdtempSync(join(tmpdir(), 'busway-bench-')));
  const nc = await connect({ servers: nats.url });
  try {
    const site = buildSite(points);
    await provision({
      natsUrl: nats.url,
      redisUrl: redis.url,
      siteModel: site.model,
      workers: WORKERS,
      env,
      logLevel: 'warn',
    });
    await sup.start('normalizer');
    await sup.waitReady();
    const rss = async () => sumOf(await sup.scrape(), 'busway_process_resident_memory_bytes') / 2 ** 20;
    const idle = await rss();
    const idleExternalMb = sumOf(await sup.scrape(), 'busway_nodejs_external_memory_bytes') / 2 ** 20;

    const messages = rawMessages(site.points, 256, Math.ceil(site.points.length / 256));
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const started = performance.now();
    let n = 0;
    for (let pass = 0; pass < passes; pass++) {
      for (const data of messages) {
        const id = `bench-${n++}`;
        await js.publish('raw.v1.samples.sparkplug.bench', data, {
          headers: fabricHeaders({ type: EventTypes.SampleBatch, source: '/bench', id }),
          msgID: id,
        });
      }
    }
    await waitFor(
      'the normalizer drained RAW',
      async () => {
        const c = await jsm.consumers.info('RAW', 'normalizer');
        return c.num_pending === 0 && c.num_ack_pending === 0;
      },
      600_000,
      250,
    );
    const seconds = (performance.now() - started) / 1000;
    const steady = await rss();
    const after = await sup.scrape();
    const heapMb = sumOf(after, 'busway_nodejs_heap_size_used_bytes') / 2 ** 20;
    const heapTotalMb = sumOf(after, 'busway_nodejs_heap_size_total_bytes') / 2 ** 20;
    const externalMb = sumOf(after, 'busway_nodejs_external_memory_bytes') / 2 ** 20;
    const samples = n * 256;
    return [
      {
        name: `normalizer process RSS, ${site.points.length} registered points, after ${passes} passes over all`,
        value: steady,
        unit: 'MB',
        baseline: { name: 'same process idle, registry loaded', value: idle },
        ratio: steady / idle,
        target: '< 200 MB',
        pass: steady < 200,
      },
      { name: 'normalizer process V8 heap in use, same moment', value: heapMb, unit: 'MB' },
      { name: 'normalizer process V8 heap committed, same moment', value: heapTotalMb, unit: 'MB' },
      {
        name: 'normalizer process external (Buffer) memory, same moment',
        value: externalMb,
        unit: 'MB',
        baseline: { name: 'idle', value: idleExternalMb },
      },
      {
        name: 'normalizer process samples/s through NATS (publish, consume, normalize, publish, ack; shares the 2 cores with nats-server and this bench)',
        value: samples / seconds,
        unit: 'samples/s',
      },
    ];
  } finally {
    await sup.stopAll(['normalizer']);
    await nc.close();
    await Promise.all([nats.dispose(), redis.dispose()]);
  }
}
