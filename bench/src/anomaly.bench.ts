import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AnomalyEngine, EngineOptionsSchema, STATE_BYTES } from '@busway/anomaly';
import { busway, timeNsFromMs } from '@busway/proto';
import { Prng } from '@busway/runtime';
import { median, throughput } from './measure.js';
import type { BenchRow } from './normalizer.bench.js';

export interface AnomalyBenchOptions {
  /** Series scored in the throughput rounds (every one past its warm-up). */
  series: number;
  /** Series held for the memory figures. */
  memorySeries: number;
  batchSize: number;
  rounds: number;
  roundMs: number;
}

export const ANOMALY_DEFAULTS: AnomalyBenchOptions = {
  series: 20_000,
  memorySeries: 200_000,
  batchSize: 256,
  rounds: 5,
  roundMs: 1500,
};

const T0 = 1_800_000_000_000;

/** Normalized samples as the ORDERED stream carries them: `passes` samples of every series, 1 s apart. */
function batches(series: number, passes: number, batchSize: number, seed = 1, fromPass = 0): Uint8Array[] {
  const rng = new Prng(seed);
  const out: Uint8Array[] = [];
  for (let p = 0; p < passes; p++)
    for (let first = 0; first < series; first += batchSize) {
      const samples: busway.v1.ISample[] = [];
      for (let i = first; i < Math.min(series, first + batchSize); i++) {
        const rack = `rack-${Math.floor(i / 40)}`;
        samples.push({
          pointId: `sparkplug:bench/gw-${Math.floor(i / 400)}/node-${Math.floor(i / 4)}:Metric ${i % 4}`,
          path: {
            site: 'bench',
            hall: 'h1',
            row: 'r1',
            rack,
            assetClass: 'node',
            asset: `node-${Math.floor(i / 4)}`,
          },
          metric: i % 4 === 0 ? 'power.active' : i % 4 === 1 ? 'temperature.gpu.die' : 'utilization.gpu',
          doubleValue: 100 + (i % 17) + rng.gaussian(),
          unit: 'W',
          eventTimeNs: timeNsFromMs(T0 + (fromPass + p) * 1000),
        });
      }
      out.push(busway.v1.SampleBatch.encode({ samples }).finish());
    }
  return out;
}

const mb = (bytes: number) => bytes / 1024 / 1024;

/**
 * The anomaly worker's CPU path on one core: decode an ordered SampleBatch, score every sample (every
 * detector, alarms), encode the AnomalyBatch. Beside it, in alternating rounds, a pass-through that only
 * decodes and re-encodes the same batches; and the detectors alone on already decoded samples. Memory: bytes
 * of detector state per series, and the heap and RSS with `memorySeries` series held.
 */
export function benchAnomaly(opts: AnomalyBenchOptions = ANOMALY_DEFAULTS): BenchRow[] {
  const config = EngineOptionsSchema.parse({ maxSeries: Math.max(opts.series, opts.memorySeries) });
  const engine = new AnomalyEngine(config, () => undefined);
  // past the warm-up of every series, so the rounds measure scoring, not learning
  const warm = batches(opts.series, config.warmupSamples + 5, opts.batchSize);
  for (const m of warm) for (const s of busway.v1.SampleBatch.decode(m).samples) engine.scoreSample(s);
  // the rounds continue the series after their warm-up (and cycle over these batches)
  const messages = batches(opts.series, 8, opts.batchSize, 2, config.warmupSamples + 5);
  const decoded = messages.map((m) => busway.v1.SampleBatch.decode(m).samples);
  let sink = 0;
  const passThrough = (m: Uint8Array) => {
    sink += busway.v1.SampleBatch.encode(busway.v1.SampleBatch.decode(m)).finish().length;
  };
  const worker = (m: Uint8Array) => {
    const scores: busway.v1.IAnomalyScore[] = [];
    for (const s of busway.v1.SampleBatch.decode(m).samples) {
      const r = engine.scoreSample(s);
      if (r) scores.push(r.score);
    }
    sink += busway.v1.AnomalyBatch.encode({ scores }).finish().length;
  };
  const findingsOnly = (m: Uint8Array) => {
    const scores: busway.v1.IAnomalyScore[] = [];
    for (const s of busway.v1.SampleBatch.decode(m).samples) {
      const r = engine.scoreSample(s);
      if (r && r.score.label !== 'normal' && r.score.label !== 'learning') scores.push(r.score);
    }
    sink += busway.v1.AnomalyBatch.encode({ scores }).finish().length + 1;
  };
  let k = 0;
  const detectorsOnly = () => {
    for (const s of decoded[k++ % decoded.length] ?? []) sink += engine.scoreSample(s)?.score.score ?? 0;
  };
  throughput(messages, opts.batchSize, opts.roundMs, passThrough);
  throughput(messages, opts.batchSize, opts.roundMs, worker);
  const base: number[] = [];
  const full: number[] = [];
  const alone: number[] = [];
  const findings: number[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    base.push(throughput(messages, opts.batchSize, opts.roundMs, passThrough));
    full.push(throughput(messages, opts.batchSize, opts.roundMs, worker));
    findings.push(throughput(messages, opts.batchSize, opts.roundMs, findingsOnly));
    alone.push(throughput(messages, opts.batchSize, opts.roundMs, detectorsOnly));
  }
  if (sink === 0) throw new Error('bench produced no output');

  const held = memoryOf(opts.memorySeries);
  const idle = memoryOf(0);
  const perSeries = (held.heapUsed + held.external - idle.heapUsed - idle.external) / opts.memorySeries;
  // bounded: one more distinct series than maxSeries still holds maxSeries
  const bounded = new AnomalyEngine({ ...config, maxSeries: 1000 }, () => undefined);
  for (const m of batches(5000, 1, opts.batchSize, 4))
    for (const s of busway.v1.SampleBatch.decode(m).samples) bounded.scoreSample(s);

  const baseline = { name: 'pass-through (decode + encode)', value: median(base) };
  const value = median(full);
  return [
    {
      name: 'anomaly worker CPU path samples/s, one core (decode, every detector, alarms, encode scores)',
      value,
      unit: 'samples/s',
      baseline,
      ratio: value / baseline.value,
      target: '>= 300k samples/s per core scored',
      pass: value >= 300_000,
    },
    {
      name: 'the same with publishScores=findings (only scores that are not normal are encoded)',
      value: median(findings),
      unit: 'samples/s',
      baseline,
      ratio: median(findings) / baseline.value,
      target: '>= 300k samples/s per core scored',
      pass: median(findings) >= 300_000,
    },
    {
      name: 'detectors alone samples/s, one core (already decoded samples, no encode)',
      value: median(alone),
      unit: 'samples/s',
      target: '>= 300k samples/s per core scored',
      pass: median(alone) >= 300_000,
    },
    { name: 'detector state per series (fixed: typed arrays)', value: STATE_BYTES, unit: 'bytes' },
    {
      name: `heap and typed arrays per series with ${opts.memorySeries.toLocaleString('en-US')} series (heap + external: state arrays, keys, index)`,
      value: perSeries,
      unit: 'bytes',
      target: 'stated and bounded',
      pass: perSeries < 1024,
    },
    {
      name: `process RSS holding ${opts.memorySeries.toLocaleString('en-US')} series (a process that only scores them)`,
      value: mb(held.rss),
      unit: 'MB',
      baseline: { name: 'same process, no series', value: mb(idle.rss) },
      ratio: held.rss / idle.rss,
    },
    {
      name: 'series held after 5,000 distinct series with maxSeries 1,000 (bounded by configuration)',
      value: bounded.detector.size,
      unit: 'series',
      target: '= maxSeries',
      pass: bounded.detector.size === 1000,
    },
    { name: 'series scored in the throughput rounds', value: engine.detector.size, unit: 'series' },
  ];
}

/** Heap, typed arrays and RSS of a fresh process that holds `series` scored series, after a full GC. */
function memoryOf(series: number): NodeJS.MemoryUsage {
  const code = `
    import { AnomalyEngine, EngineOptionsSchema } from '@busway/anomaly';
    import { timeNsFromMs } from '@busway/proto';
    const engine = new AnomalyEngine(EngineOptionsSchema.parse({ maxSeries: Math.max(1, ${series}) }), () => undefined);
    const path = { site: 'bench', hall: 'h1', row: 'r1', rack: 'rack-1', assetClass: 'node', asset: 'node-1' };
    for (let p = 0; p < 2; p++)
      for (let i = 0; i < ${series}; i++)
        engine.scoreSample({ pointId: 'sparkplug:bench/gw-' + Math.floor(i / 400) + '/node-' + Math.floor(i / 4) + ':Metric ' + (i % 4),
          path, metric: 'power.active', doubleValue: 100 + (i % 17) + p, eventTimeNs: timeNsFromMs(${T0} + p * 1000) });
    globalThis.gc();
    process.stdout.write(JSON.stringify(process.memoryUsage()));`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], {
    cwd: dirname(fileURLToPath(import.meta.url)),
    encoding: 'utf8',
  });
  return JSON.parse(out) as NodeJS.MemoryUsage;
}
