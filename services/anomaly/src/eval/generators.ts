import { timeNsFromMs } from '@busway/proto';
import { Prng } from '@busway/runtime';
import type { Dataset, LabelledWindow, StreamItem } from './types.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 5); // a Monday, midnight UTC

interface Series {
  /** Value at step i and time t (ms since T0); NaN is a missing reading, undefined no reading at all. */
  value: (i: number, t: number) => number | undefined;
  steps: number;
  stepMs: number;
  windows: Omit<LabelledWindow, 'pointIds' | 'id'>[];
  /** Learning time at the start that is not scored. */
  probationMs: number;
}

/** Student t with 3 degrees of freedom: heavy tails. */
const t3 = (rng: Prng) => {
  let c = 0;
  for (let k = 0; k < 3; k++) c += rng.gaussian() ** 2;
  return rng.gaussian() / Math.sqrt(c / 3);
};
const daily = (t: number) => Math.sin((2 * Math.PI * t) / DAY);
const w = (type: string, fromMs: number, toMs: number) => ({ type, startMs: T0 + fromMs, endMs: T0 + toMs });
/** A random instant on the sampling grid (anomalies start on a sample, so their windows start with it). */
const onGrid = (ms: number, stepMs: number) => Math.ceil(ms / stepMs) * stepMs;

/**
 * Families of labelled series with behaviour real telemetry has and the simulator lacks. Each is drawn from
 * a seed, with its anomaly times and sizes drawn too, so nothing is placed where the detector happens to
 * do well. Windows span the anomaly plus a margin for its aftermath.
 */
export const Families: Record<string, (rng: Prng) => Series> = {
  'daily-seasonal': (rng) => {
    const spikeAt = onGrid(rng.between(7, 8) * DAY, 5 * MIN);
    const shiftAt = onGrid(rng.between(9, 10) * DAY, 5 * MIN);
    const flatAt = Math.floor(rng.between(11, 12)) * DAY;
    const amp = rng.between(10, 25);
    return {
      steps: 14 * 288,
      stepMs: 5 * MIN,
      probationMs: 3 * DAY,
      value: (_i, t) => {
        const pattern = t >= flatAt && t < flatAt + DAY ? 0 : amp * daily(t) + 0.3 * amp * daily(2 * t);
        return (
          50 +
          pattern +
          (t >= spikeAt && t < spikeAt + 5 * MIN ? (5 * amp) / 10 + 6 : 0) +
          (t >= shiftAt && t < shiftAt + 6 * HOUR ? 0.5 * amp : 0) +
          1.5 * rng.gaussian()
        );
      },
      windows: [
        w('spike', spikeAt, spikeAt + 30 * MIN),
        w('level-shift', shiftAt, shiftAt + 7 * HOUR),
        w('pattern-loss', flatAt, flatAt + DAY),
      ],
    };
  },
  trend: (rng) => {
    const driftAt = onGrid(rng.between(2.5, 3.5) * DAY, MIN);
    const spikeAt = onGrid(rng.between(1.5, 2) * DAY, MIN);
    return {
      steps: 5 * 1440,
      stepMs: MIN,
      probationMs: DAY,
      value: (_i, t) =>
        100 +
        (10 * t) / DAY +
        (t > driftAt ? ((Math.min(t, driftAt + DAY) - driftAt) / MIN) * 0.02 : 0) +
        (t >= spikeAt && t < spikeAt + MIN ? 8 : 0) +
        rng.gaussian(),
      windows: [w('drift', driftAt, driftAt + DAY), w('spike', spikeAt, spikeAt + 20 * MIN)],
    };
  },
  'heavy-tailed': (rng) => {
    const a = onGrid(rng.between(1, 1.5) * DAY, MIN);
    const b = onGrid(rng.between(2, 2.5) * DAY, MIN);
    const shiftAt = onGrid(rng.between(1.6, 1.9) * DAY, MIN);
    return {
      steps: 3 * 1440,
      stepMs: MIN,
      probationMs: 12 * HOUR,
      value: (_i, t) =>
        20 + 2 * t3(rng) + (t === a || t === b ? 60 : 0) + (t >= shiftAt && t < shiftAt + 3 * HOUR ? 10 : 0),
      windows: [
        w('spike', a, a + 20 * MIN),
        w('spike', b, b + 20 * MIN),
        w('level-shift', shiftAt, shiftAt + 4 * HOUR),
      ],
    };
  },
  'regime-change': (rng) => {
    let ar = 0;
    const jumpAt = onGrid(rng.between(2.5, 3.5) * HOUR, 1000);
    const noisyAt = onGrid(rng.between(4.5, 5) * HOUR, 1000);
    return {
      steps: 6 * 3600,
      stepMs: 1000,
      probationMs: HOUR,
      value: (_i, t) => {
        ar = 0.8 * ar + (t >= noisyAt ? 4 : 1) * rng.gaussian();
        return 40 + ar + (t >= jumpAt ? 8 : 0);
      },
      windows: [
        w('level-shift', jumpAt, jumpAt + 10 * MIN),
        w('variance-change', noisyAt, noisyAt + 10 * MIN),
      ],
    };
  },
  'missing-data': (rng) => {
    const gapAt = onGrid(rng.between(1, 1.3) * DAY, MIN);
    const holeAt = onGrid(rng.between(1.6, 1.8) * DAY, MIN);
    const dropAt = onGrid(rng.between(2.2, 2.6) * DAY, MIN);
    return {
      steps: 3 * 1440,
      stepMs: MIN,
      probationMs: 12 * HOUR,
      value: (_i, t) => {
        if (t >= gapAt && t < gapAt + 6 * HOUR) return undefined; // the source was offline
        if (t >= holeAt && t < holeAt + 2 * HOUR) return Number.NaN; // it reported, with no value
        const spike = t >= gapAt + 6 * HOUR && t < gapAt + 6 * HOUR + MIN ? 12 : 0;
        return 60 + 5 * daily(t) + spike + (t >= dropAt && t < dropAt + 4 * HOUR ? -6 : 0) + rng.gaussian();
      },
      windows: [
        w('spike', gapAt + 6 * HOUR, gapAt + 6 * HOUR + 20 * MIN),
        w('level-shift', dropAt, dropAt + 5 * HOUR),
      ],
    };
  },
  quantized: (rng) => {
    const stuckAt = onGrid(rng.between(1.2, 1.5) * DAY, MIN);
    const driftAt = onGrid(rng.between(2, 2.3) * DAY, MIN);
    let stuck = 0;
    return {
      steps: 3 * 1440,
      stepMs: MIN,
      probationMs: 12 * HOUR,
      value: (_i, t) => {
        const v =
          Math.round(
            2 *
              (22 +
                1.5 * daily(t) +
                0.4 * rng.gaussian() +
                (t > driftAt ? Math.min(4, ((t - driftAt) / HOUR) * (4 / 6)) : 0)),
          ) / 2;
        if (t >= stuckAt && t < stuckAt + 2 * HOUR) return stuck === 0 ? (stuck = v) : stuck;
        return v;
      },
      windows: [w('stuck', stuckAt, stuckAt + 2 * HOUR), w('drift', driftAt, driftAt + 8 * HOUR)],
    };
  },
  'flat-then-noisy': (rng) => {
    const startAt = rng.between(0.8, 1) * DAY;
    const spikeAt = onGrid(rng.between(1.5, 1.8) * DAY, MIN);
    return {
      steps: 2 * 1440,
      stepMs: MIN,
      probationMs: 6 * HOUR,
      value: (_i, t) => (t < startAt ? 0 : 35 + 2 * rng.gaussian() + (t === spikeAt ? 25 : 0)),
      windows: [w('spike', spikeAt, spikeAt + 20 * MIN)],
    };
  },
  'random-walk': (rng) => {
    let x = 100;
    const jumpAt = onGrid(rng.between(4.5, 5.5) * DAY, 5 * MIN);
    return {
      steps: 7 * 288,
      stepMs: 5 * MIN,
      probationMs: DAY,
      value: (_i, t) => (x += rng.gaussian()) + (t >= jumpAt ? 15 : 0),
      windows: [w('level-shift', jumpAt, jumpAt + 2 * HOUR)],
    };
  },
  'duty-cycle': (rng) => {
    const stuckOnAt = Math.floor(rng.between(1.5, 2)) * DAY + 10 * HOUR;
    return {
      steps: 3 * 1440,
      stepMs: MIN,
      probationMs: 12 * HOUR,
      value: (_i, t) => {
        const on = t >= stuckOnAt && t < stuckOnAt + 3 * HOUR ? true : t % HOUR < 20 * MIN;
        return (on ? 8 : 0.5) + 0.2 * rng.gaussian();
      },
      windows: [w('stuck-on', stuckOnAt, stuckOnAt + 3 * HOUR)],
    };
  },
};

/** One labelled dataset of a family, drawn from `seed`. */
export function syntheticDataset(family: string, seed: number): Dataset {
  const make = Families[family];
  if (!make) throw new Error(`unknown family ${family}`);
  const rng = new Prng(seed * 7919 + family.length);
  const s = make(rng);
  const pointId = `synthetic:${family}:${seed}`;
  const items: StreamItem[] = [];
  for (let i = 0; i < s.steps; i++) {
    const t = i * s.stepMs;
    const v = s.value(i, t);
    if (v === undefined) continue;
    items.push({ sample: { pointId, metric: 'value', doubleValue: v, eventTimeNs: timeNsFromMs(T0 + t) } });
  }
  return {
    name: `${family} #${seed}`,
    source: 'synthetic',
    family,
    items,
    windows: s.windows.map((x, k) => ({ ...x, id: `${family}#${seed}/${k}`, pointIds: [pointId] })),
    probationMs: s.probationMs,
    startMs: T0,
    endMs: T0 + s.steps * s.stepMs,
  };
}
