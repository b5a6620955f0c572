// Power → coolant lag error over many simulated plants: one seed's p99 is a handful of links, so the target is
// judged on its spread over seeds, from a cold start and once the correlator has learned its loops.
import {
  DEFAULT_HARNESS,
  DEFAULT_SCORING,
  runHarness,
  scoreRun,
  type HarnessOptions,
} from '@busway/correlator/scoring';
import { median } from './measure.js';
import type { BenchRow } from './normalizer.bench.js';
import { markdown } from './table.js';

/** Seeds 1-11 and 19: the set the correlator's coolant work has been measured on since it began. */
export const LAG_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 19];

/** Where steady-state scoring starts: by then each loop has pooled about ten of its own matches. */
const LEARNED_AFTER_MS = 5 * 60_000;

interface Variant {
  label: string;
  sim?: Record<string, unknown>;
}

const VARIANTS: Variant[] = [
  { label: 'coolant sampled at 1 Hz (the default plant)' },
  // every thermal point of the plant at 5 Hz: does a faster sensor alone bring the lag within 100 ms?
  { label: 'thermal points sampled at 5 Hz', sim: { thermalIntervalMs: 200 } },
];

interface Sweep {
  cold: number[];
  learned: number[];
  /** Every seed's coolant links from minute 1: how many, and how many within one and two stated SE. */
  links: number;
  within1: number;
  within2: number;
}

/** Per-seed p99 of the power → coolant lag error, scored from minute 1 (cold) and from minute 5 (learned). */
function sweep(seeds: readonly number[], variant: Variant): Sweep {
  const out: Sweep = { cold: [], learned: [], links: 0, within1: 0, within2: 0 };
  for (const seed of seeds) {
    const opts: HarnessOptions = { ...DEFAULT_HARNESS, seed, durationMs: 20 * 60_000, sim: variant.sim };
    const run = runHarness(opts);
    const cold = scoreRun(run);
    out.cold.push(cold.coolantLagErrorMs.p99);
    out.learned.push(scoreRun(run, { ...DEFAULT_SCORING, warmupMs: LEARNED_AFTER_MS }).coolantLagErrorMs.p99);
    const c = cold.lagCalibration.coolant;
    out.links += c.n;
    out.within1 += c.within1 * c.n;
    out.within2 += c.within2 * c.n;
  }
  return out;
}

const row = (name: string, p99s: number[]): BenchRow => ({
  name: `${name}: median / max of per-seed p99 (${p99s.length} seeds: ${p99s.map(Math.round).join(', ')})`,
  value: Math.max(...p99s),
  unit: `ms (median ${Math.round(median(p99s))})`,
  target: '<= 100 ms',
  pass: Math.max(...p99s) <= 100,
});

/** The sweep's rows: each variant from a cold start and after the learning period. */
export function benchLagSweep(seeds: readonly number[] = LAG_SEEDS): BenchRow[] {
  return VARIANTS.flatMap((v) => {
    const s = sweep(seeds, v);
    return [
      row(`power -> coolant lag error, ${v.label}, scored from minute 1`, s.cold),
      row(`power -> coolant lag error, ${v.label}, scored from minute 5`, s.learned),
      {
        name: `coolant lags within one stated standard error of the truth, ${v.label} (${s.links} links; within two: ${(s.within2 / s.links).toFixed(3)})`,
        value: s.within1 / s.links,
        unit: '',
        target: 'about 0.68 and 0.95 (Gaussian)',
      },
    ];
  });
}

/** `node bench/dist/lag-sweep.bench.js [--quick]`: this sweep alone, as a table. */
if (import.meta.url === `file://${process.argv[1]}`) {
  const seeds = process.argv.includes('--quick') ? LAG_SEEDS.slice(0, 2) : LAG_SEEDS;
  process.stdout.write(`${markdown('Power → coolant lag over seeds', benchLagSweep(seeds))}\n`);
}
