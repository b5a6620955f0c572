import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { EventTypes } from '@busway/proto';
import { provision, Supervisor, sumOf, WORKERS } from '@busway/cli';
import { fabricHeaders } from '@busway/runtime';
import { startNats, startRedis, waitFor } from '@busway/testkit';
import { median } from './measure.js';
import type { BenchRow } from './normalizer.bench.js';
import { buildSite, rawMessages } from './site.js';

const MB = 2 ** 20;
type PromSample = Awaited<ReturnType<Supervisor['scrape']>>[number];

interface WorkerRun {
  idleRssMb: number;
  idleExternalMb: number;
  /** RSS sampled every 0.5 s from the second pass on (the first one touches every point once). */
  loadRssMb: number[];
  steadyRssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  newSpaceMb: number;
  oldSpaceMb: number;
  externalMb: number;
  samplesPerCpuSecond: number;
  samplesPerSecond: number;
}

const space = (m: PromSample[], name: string) =>
  m
    .filter((s) => s.name === 'busway_nodejs_heap_space_size_total_bytes' && s.labels.space === name)
    .reduce((a, s) => a + s.value, 0) / MB;

/**
 * One `busway run normalizer` process on its own nats-server and Redis, with a registry of `points` points,
 * started by the CLI's Supervisor (so with the NODE_OPTIONS it gives the normalizer) plus `extraEnv`.
 */
async function runWorker(points: number, passes: number, extraEnv: NodeJS.ProcessEnv): Promise<WorkerRun> {
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
      workers: WORKERS.filter((w) => w.name === 'normalizer'), // only its consumer: no other module to load
      env,
      logLevel: 'warn',
    });
    await sup.start('normalizer', extraEnv);
    await sup.waitReady();
    await new Promise((r) => setTimeout(r, 1000));
    const idle = await sup.scrape();

    const messages = rawMessages(site.points, 256, Math.ceil(site.points.length / 256));
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const loadRssMb: number[] = [];
    let n = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await new Promise((r) => setTimeout(r, 500));
        if (n >= messages.length)
          loadRssMb.push(sumOf(await sup.scrape(), 'busway_process_resident_memory_bytes') / MB);
      }
    })();
    const cpu0 = sumOf(await sup.scrape(), 'busway_process_cpu_seconds_total');
    const started = performance.now();
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
    sampling = false;
    await sampler;
    const after = await sup.scrape();
    const samples = n * 256;
    return {
      idleRssMb: sumOf(idle, 'busway_process_resident_memory_bytes') / MB,
      idleExternalMb: sumOf(idle, 'busway_nodejs_external_memory_bytes') / MB,
      loadRssMb,
      steadyRssMb: sumOf(after, 'busway_process_resident_memory_bytes') / MB,
      heapUsedMb: sumOf(after, 'busway_nodejs_heap_size_used_bytes') / MB,
      heapTotalMb: sumOf(after, 'busway_nodejs_heap_size_total_bytes') / MB,
      newSpaceMb: space(after, 'new'),
      oldSpaceMb: space(after, 'old'),
      externalMb: sumOf(after, 'busway_nodejs_external_memory_bytes') / MB,
      samplesPerCpuSecond: samples / (sumOf(after, 'busway_process_cpu_seconds_total') - cpu0),
      samplesPerSecond: samples / seconds,
    };
  } finally {
    await sup.stopAll(['normalizer']);
    await nc.close();
    await Promise.all([nats.dispose(), redis.dispose()]);
  }
}

/**
 * The real normalizer process (`busway run normalizer`) with a registry of `points` points: its resident memory
 * while it normalizes every point pass after pass (steady state), read from its own /metrics, beside the same
 * process idle; then the same with V8's default heap sizing (NODE_OPTIONS cleared), which shows what the
 * Supervisor's flags for the normalizer save and cost.
 */
export async function benchNormalizerWorker(points: number, passes: number): Promise<BenchRow[]> {
  const tuned = await runWorker(points, passes, {});
  const defaults = await runWorker(points, passes, { NODE_OPTIONS: '' });
  const max = (xs: number[]) => Math.max(...xs);
  const load = tuned.loadRssMb.length > 0 ? tuned.loadRssMb : [tuned.steadyRssMb];
  const loadDefaults = defaults.loadRssMb.length > 0 ? defaults.loadRssMb : [defaults.steadyRssMb];
  return [
    {
      name: `normalizer process RSS under load, ${points} registered points: highest of ${load.length} readings from the 2nd pass on`,
      value: max(load),
      unit: 'MB',
      baseline: { name: 'same process idle, registry loaded', value: tuned.idleRssMb },
      ratio: max(load) / tuned.idleRssMb,
      target: '< 200 MB',
      pass: max(load) < 200,
    },
    { name: 'same, median of the readings under load', value: median(load), unit: 'MB' },
    {
      name: `same process after ${passes} passes over all points, drained`,
      value: tuned.steadyRssMb,
      unit: 'MB',
      target: '< 200 MB',
      pass: tuned.steadyRssMb < 200,
    },
    { name: 'V8 heap in use, same moment', value: tuned.heapUsedMb, unit: 'MB' },
    {
      name: `V8 heap committed, same moment (new space ${tuned.newSpaceMb.toFixed(0)} MB, old space ${tuned.oldSpaceMb.toFixed(0)} MB)`,
      value: tuned.heapTotalMb,
      unit: 'MB',
    },
    {
      name: 'external (Buffer) memory, same moment',
      value: tuned.externalMb,
      unit: 'MB',
      baseline: { name: 'idle', value: tuned.idleExternalMb },
    },
    {
      name: 'normalizer process samples per CPU-second of its own, through NATS (consume, normalize, publish, ack)',
      value: tuned.samplesPerCpuSecond,
      unit: 'samples/s',
      baseline: { name: 'same with V8 default heap sizing', value: defaults.samplesPerCpuSecond },
      ratio: tuned.samplesPerCpuSecond / defaults.samplesPerCpuSecond,
    },
    {
      name: 'normalizer process samples/s through NATS, wall (shares the 2 cores with nats-server and this bench)',
      value: tuned.samplesPerSecond,
      unit: 'samples/s',
      baseline: { name: 'with V8 defaults', value: defaults.samplesPerSecond },
    },
    {
      name: 'with V8 default heap sizing (NODE_OPTIONS cleared): RSS under load, highest reading',
      value: max(loadDefaults),
      unit: 'MB',
      baseline: { name: 'median', value: median(loadDefaults) },
      target: '< 200 MB',
      pass: max(loadDefaults) < 200,
    },
    {
      name: `with V8 defaults: after the passes (V8 heap committed ${defaults.heapTotalMb.toFixed(0)} MB, new space ${defaults.newSpaceMb.toFixed(0)} MB, external ${defaults.externalMb.toFixed(0)} MB)`,
      value: defaults.steadyRssMb,
      unit: 'MB',
    },
  ];
}
