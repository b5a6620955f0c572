import { busway } from '@busway/proto';
import { Deadband, normalizeBatch, SampleNormalizer } from '@busway/normalizer';
import { median, throughput } from './measure.js';
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

/**
 * The normalizer's CPU path (decode, registry lookup, UCUM conversion, time rules, deadband, group by rack,
 * encode) against a pass-through that only decodes and re-encodes the same batches, in alternating rounds on
 * one core. NATS I/O is left out on both sides: it is the same for both and measured end to end elsewhere.
 */
export function benchNormalizer(opts: BenchOptions = DEFAULTS): BenchRow[] {
  const { registry, points } = buildSite(opts.points);
  const messages = rawMessages(points, opts.batchSize, Math.ceil(points.length / opts.batchSize));
  const rules = { taiUtcOffsetS: 37, maxFutureSkewMs: 5000 };
  const deadband = new Deadband(60_000);
  const normalizer = new SampleNormalizer(registry, 'bench', rules);
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

  throughput(messages, opts.batchSize, opts.roundMs, passThrough); // warm-up, both paths
  throughput(messages, opts.batchSize, opts.roundMs, normalize);
  const base: number[] = [];
  const norm: number[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    base.push(throughput(messages, opts.batchSize, opts.roundMs, passThrough));
    norm.push(throughput(messages, opts.batchSize, opts.roundMs, normalize));
  }
  if (sink === 0) throw new Error('bench produced no output');
  const baseline = { name: 'pass-through (decode + encode)', value: median(base) };
  const value = median(norm);
  return [
    {
      name: 'normalizer samples/s, one core, vs pass-through',
      value,
      unit: 'samples/s',
      baseline,
      ratio: value / baseline.value,
      target: '>= 0.6 of pass-through',
      pass: value / baseline.value >= 0.6,
    },
    {
      name: 'normalizer samples/s, one core, absolute',
      value,
      unit: 'samples/s',
      target: '>= 500k samples/s (machine-dependent: compare the pass-through on the same machine)',
      pass: value >= 500_000,
    },
    { name: 'deadband points remembered', value: deadband.size, unit: 'points' },
  ];
}
