import { F } from '../state-layout.js';

/** Mean absolute deviation to standard deviation, for Gaussian noise. */
export const MEAN_ABS_TO_SIGMA = 1.2533;
/** 99th percentile of |z| for Gaussian noise: the tail quantile a well-behaved series converges to. */
export const GAUSS_ABS_Q99 = 2.576;
/** Residuals are clipped at this many (tail-corrected) sigmas before they move the baseline (Huber). */
const HUBER_C = 3;
/** The fast level follows the last few samples: where the series is now, adopted after a change point. */
const FAST_ALPHA = 0.5;
/** The scale learns from residuals clipped here (in sigmas), and not at all from outliers beyond SCALE_SKIP. */
const SCALE_CLIP = 2;
const SCALE_SKIP = 4;
/** Samples after an adopted (explained) change during which the scale is learned afresh. */
export const RELEARN_SAMPLES = 10;
/** Step of the streaming quantile estimate of |z|, in z units. */
const TAIL_STEP = 0.05;

export function initBaseline(s: Float64Array, o: number, x: number): void {
  s[o + F.level] = x;
  s[o + F.fast] = x;
  s[o + F.scale] = 0;
  s[o + F.tailQ] = GAUSS_ABS_Q99;
}

/**
 * Robust sigma of the residual, never zero: a quantized sensor's noise is at least about a third of its
 * step, and a floor relative to the level keeps a perfectly flat series from giving infinite z.
 */
export function sigmaOf(s: Float64Array, o: number): number {
  const minStep = s[o + F.minStep]!;
  const floor = Math.max(minStep > 0 ? 0.3 * minStep : 0, 1e-6 * Math.abs(s[o + F.level]!), 1e-9);
  return Math.max(MEAN_ABS_TO_SIGMA * s[o + F.scale]!, floor);
}

/** How much heavier than Gaussian the series' tails are (1 for Gaussian noise). */
export function tailFactorOf(s: Float64Array, o: number): number {
  return Math.max(1, s[o + F.tailQ]! / GAUSS_ABS_Q99);
}

/**
 * Moves level, fast level and scale toward `y` (the deseasonalized sample). While learning, plain running
 * means; after, an EWMA of the residual clipped at HUBER_C sigmas, so one spike cannot drag the baseline.
 * The scale (mean absolute residual) learns at half that rate from residuals clipped at SCALE_CLIP sigmas and
 * ignores outliers; a repeated value says nothing new about the noise and leaves it alone. With `adopt` (a
 * change something explains) the level follows at FAST_ALPHA, unclipped, and the scale is left alone.
 */
export function updateBaseline(
  s: Float64Array,
  o: number,
  y: number,
  sigma: number,
  tail: number,
  learning: boolean,
  alpha: number,
  repeated: boolean,
  adopt = false,
  relearn = Number.POSITIVE_INFINITY,
): void {
  const n = s[o + F.n]!;
  const level = s[o + F.level]!;
  const r = y - level;
  const a = learning ? Math.max(alpha, 1 / (n + 1)) : alpha;
  const c = HUBER_C * sigma * tail;
  const rc = learning ? r : r > c ? c : r < -c ? -c : r;
  if (adopt) {
    // an explained change: the level follows it at once (unclipped), so it is settled when the window ends
    s[o + F.level] = level + FAST_ALPHA * r;
    s[o + F.fast] = s[o + F.fast]! + FAST_ALPHA * (y - s[o + F.fast]!);
    return;
  }
  if (relearn < RELEARN_SAMPLES && !learning) {
    // just after an adopted change: the noise at the new operating point may differ; learn it quickly
    s[o + F.level] = level + alpha * r;
    s[o + F.fast] = s[o + F.fast]! + FAST_ALPHA * (y - s[o + F.fast]!);
    if (!repeated) s[o + F.scale] = s[o + F.scale]! + (1 / (relearn + 2)) * (Math.abs(r) - s[o + F.scale]!);
    return;
  }
  s[o + F.level] = level + a * rc;
  s[o + F.fast] = s[o + F.fast]! + FAST_ALPHA * (y - s[o + F.fast]!);
  // an outlier or the first samples of a shift must not inflate the noise estimate
  const absR = Math.abs(r);
  if (!repeated && (learning || absR <= SCALE_SKIP * sigma * tail)) {
    const cs = SCALE_CLIP * sigma * tail;
    const clippedR = learning ? absR : absR > cs ? cs : absR;
    s[o + F.scale] = s[o + F.scale]! + (learning ? a : a / 2) * (clippedR - s[o + F.scale]!);
  }
}

/** Streaming estimate of the 99th percentile of |z|: each sample moves it by a bounded step. */
export function updateTail(s: Float64Array, o: number, absZ: number): void {
  const q = s[o + F.tailQ]!;
  const next = absZ > q ? q + TAIL_STEP * 0.99 : q - TAIL_STEP * 0.01;
  s[o + F.tailQ] = Math.min(50, Math.max(1, next));
}
