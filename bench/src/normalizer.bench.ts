import { busway } from '@busway/proto';
import { Deadband, normalizeBatch, normalizeBatchObjects, SampleNormalizer } from '@busway/normalizer';
import { median } from './measure.js';
import { buildSite, rawMessages } from './site.js';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** What the value is compared with, measured in the same run. */
  baseline?: { name: string; value: number };
  ratio?: number;
  target?: string;
  pass?: boolean;
}

export interface BenchOptions {
  points: number;
  batchSize: number;
  rounds: number;
  roundMs: number;
}

export const DEFAULTS: BenchOptions = { points: 100_000, batchSize: 256, rounds: 5, roundMs: 1500 };

/** Samples per second of `step` over `messages` for about `ms`: per second of this process's CPU time, and of wall time. */
function rates(
  messages: Uint8Array[],
  samplesPerMessage: number,
  ms: number,
  step: (m: Uint8Array) => void,
): { cpu: number; wall: number } {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let done = 0;
  while (performance.now() - start < ms) {
    for (let i = 0; i < 64; i++) step(messages[(done + i) % messages.length] as Uint8Array);
    done += 64;
  }
  const wallS = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return { cpu: (done * samplesPerMessage) / cpuS, wall: (done * samplesPerMessage) / wallS };
}

/**
 * The normalizer's CPU path (decode, registry lookup, UCUM conversion, time rules, deadband, group by rack,
 * encode: `normalizeBatch`, as the worker runs it) against a pass-through that only decodes and re-encodes the
 * same batches with the generated code, in alternating rounds on one thread. Rates are per second of the
 * process's CPU time (GC threads included), so other work on the shared cores does not count against them; wall
 * rates are reported too. NATS I/O is left out on both sides: the worker bench measures it end to end.
 */
export function benchNormalizer(opts: BenchOptions = DEFAULTS): BenchRow[] {
  const { registry, points } = buildSite(opts.points);
  const messages = rawMessages(points, opts.batchSize, Math.ceil(points.length / opts.batchSize));
  const rules = { taiUtcOffsetS: 37, maxFutureSkewMs: 5000 };
  const deadband = new Deadband(60_000);
  const normalizer = new SampleNormalizer(registry, 'bench', rules);
  const objectDeadband = new Deadband(60_000);
  const objectNormalizer = new SampleNormalizer(registry, 'bench', rules);
  let sink = 0; // keeps the work observable so nothing is optimized away

  const passThrough = (m: Uint8Array) => {
    sink += busway.v1.SampleBatch.encode(busway.v1.SampleBatch.decode(m)).finish().length;
  };
  const normalize = (m: Uint8Array) => {
    const reporting = deadband.stage();
    const r = normalizeBatch(m, normalizer, reporting);
    reporting.commit();
    for (const o of r.out) sink += o.data.length;
    if (r.rejected.length > 0) throw new Error(`bench input rejected: ${r.rejected[0]?.reason.message}`);
  };
  const normalizeObjects = (m: Uint8Array) => {
    const reporting = objectDeadband.stage();
    const r = normalizeBatchObjects(m, objectNormalizer, reporting);
    reporting.commit();
    for (const o of r.out) sink += o.data.length;
  };

  for (const step of [passThrough, normalize, normalizeObjects])
    rates(messages, opts.batchSize, opts.roundMs, step); // warm-up
  const base: { cpu: number; wall: number }[] = [];
  const norm: { cpu: number; wall: number }[] = [];
  const objects: number[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    base.push(rates(messages, opts.batchSize, opts.roundMs, passThrough));
    norm.push(rates(messages, opts.batchSize, opts.roundMs, normalize));
    objects.push(rates(messages, opts.batchSize, opts.roundMs, normalizeObjects).cpu);
  }
  if (sink === 0) throw new Error('bench produced no output');
  const baseline = {
    name: 'pass-through (generated decode + encode)',
    value: median(base.map((r) => r.cpu)),
  };
  const value = median(norm.map((r) => r.cpu));
  const wallBase = median(base.map((r) => r.wall));
  const wall = median(norm.map((r) => r.wall));
  return [
    {
      name: 'normalizer samples per CPU-second, vs pass-through',
      value,
      unit: 'samples/s',
      baseline,
      ratio: value / baseline.value,
      target: '>= 0.6 of pass-through',
      pass: value / baseline.value >= 0.6,
    },
    {
      name: 'normalizer samples per CPU-second, absolute (one core)',
      value,
      unit: 'samples/s',
      target: '>= 500k samples/s per core',
      pass: value >= 500_000,
    },
    {
      name: 'normalizer samples per wall-second (shares the cores with other work)',
      value: wall,
      unit: 'samples/s',
      baseline: { name: 'pass-through', value: wallBase },
      ratio: wall / wallBase,
    },
    {
      name: 'object path alone (generated decode, SampleNormalizer, encode), per CPU-second: what the fast path falls back to',
      value: median(objects),
      unit: 'samples/s',
      baseline: { name: 'pass-through', value: baseline.value },
      ratio: median(objects) / baseline.value,
    },
    { name: 'deadband points remembered', value: deadband.size, unit: 'points' },
  ];
}
