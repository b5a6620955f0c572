import type { DetectorOptions } from './config.js';

/**
 * State of one series: 7 numbers and a boolean, about 80 bytes with the Map entry and key (~150 bytes for a
 * typical point id), so 200k series stay near 50 MB.
 */
interface SeriesState {
  n: number;
  mean: number;
  dev: number;
  last: number;
  same: number;
  highRun: number;
  varied: boolean;
}

export interface Score {
  score: number;
  label: 'learning' | 'normal' | 'spike' | 'level-shift' | 'stuck';
  detector: string;
  expected: number;
  observed: number;
  reason: string;
}

const MAD_TO_SIGMA = 1.4826;

/** Scores every series online with a robust baseline (EWMA of value and of absolute deviation). */
export class Detector {
  private readonly series = new Map<string, SeriesState>();

  constructor(private readonly opts: DetectorOptions) {}

  get size(): number {
    return this.series.size;
  }

  score(key: string, x: number): Score {
    let s = this.series.get(key);
    if (s)
      this.series.delete(key); // re-insert: Map order is recency order for eviction
    else {
      s = { n: 0, mean: x, dev: 0, last: x, same: 0, highRun: 0, varied: false };
      if (this.series.size >= this.opts.maxSeries) {
        const oldest = this.series.keys().next().value;
        if (oldest !== undefined) this.series.delete(oldest);
      }
    }
    this.series.set(key, s);
    const floor = Math.max(1e-9, Math.abs(s.mean) * 1e-4);
    const sigma = MAD_TO_SIGMA * Math.max(s.dev, floor);
    const z = Math.abs(x - s.mean) / sigma;
    s.same = x === s.last ? s.same + 1 : 0;
    if (x !== s.last) s.varied = true;
    s.last = x;
    const learning = s.n < this.opts.warmupSamples;
    const high = !learning && z >= this.opts.zThreshold;
    s.highRun = high ? s.highRun + 1 : 0;
    const shifting = s.highRun >= this.opts.shiftSamples;
    // a spike must not drag the baseline: clip it; a level shift is adopted quickly instead
    const alpha = learning ? Math.max(this.opts.alpha, 1 / (s.n + 1)) : shifting ? 0.3 : this.opts.alpha;
    const clipped = shifting || learning ? x : Math.min(s.mean + 3 * sigma, Math.max(s.mean - 3 * sigma, x));
    const expected = s.mean;
    s.mean += alpha * (clipped - s.mean);
    s.dev += alpha * (Math.abs(clipped - s.mean) - s.dev);
    s.n++;

    if (learning)
      return {
        score: 0,
        label: 'learning',
        detector: 'robust-ewma',
        expected,
        observed: x,
        reason: `learning (${s.n}/${this.opts.warmupSamples})`,
      };
    if (s.varied && s.same >= this.opts.stuckSamples) {
      return {
        score: 0.9,
        label: 'stuck',
        detector: 'stuck',
        expected,
        observed: x,
        reason: `value ${x} unchanged for ${s.same + 1} samples on a varying series`,
      };
    }
    const score = (z * z) / (z * z + this.opts.zThreshold * this.opts.zThreshold);
    const label = !high ? 'normal' : shifting ? 'level-shift' : 'spike';
    const reason = `robust z=${z.toFixed(2)}: expected ${expected.toPrecision(6)} ± ${sigma.toPrecision(3)}, saw ${x}`;
    return {
      score: Number.isFinite(score) ? score : 1,
      label,
      detector: 'robust-ewma',
      expected,
      observed: x,
      reason,
    };
  }
}
