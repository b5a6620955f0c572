import { F } from '../state-layout.js';

/** The usual wander of a series is learned this many times slower than its anchor moves. */
const WANDER_SLOWER = 4;
/** A drift must exceed this many standard deviations of the series' usual wander (a random walk wanders far). */
const WANDER_FACTOR = 5;
/** Right after learning, the wander is a plain running mean over this many samples (a quick first guess). */
const WANDER_QUICK_SAMPLES = 200;

/**
 * Slow drift and trends: the level is compared with a long-term anchor (an EWMA with a memory of the drift
 * horizon). A stationary series keeps its level within a fraction of a sigma of the anchor; a sensor drift,
 * a degrading pump or a slow leak moves it away steadily. A series with a steady trend of its own keeps a
 * steady distance (its `driftMean`), and autocorrelated or random-walk-like series wander far on their own
 * (`wander`: the variance of the distance around that mean; a running mean over the first
 * WANDER_QUICK_SAMPLES scored samples, then an EWMA WANDER_SLOWER times slower than the anchor). Returns the
 * signed severity: the distance's deviation from its mean, in sigmas, over max(threshold, WANDER_FACTOR x the
 * wander's standard deviation).
 */
export function updateDrift(
  s: Float64Array,
  o: number,
  sigma: number,
  anchorAlpha: number,
  threshold: number,
  samplesScored: number,
): number {
  const level = s[o + F.level]!;
  const anchor = s[o + F.anchor]! + anchorAlpha * (level - s[o + F.anchor]!);
  s[o + F.anchor] = anchor;
  const d = (level - anchor) / sigma;
  const dev = d - s[o + F.driftMean]!;
  const limit = Math.max(threshold, WANDER_FACTOR * Math.sqrt(s[o + F.wander]!));
  // a real drift must not teach the wander (or the mean) too fast
  const clipped = Math.max(-2 * limit, Math.min(2 * limit, dev));
  const a = samplesScored < WANDER_QUICK_SAMPLES ? 1 / (samplesScored + 1) : anchorAlpha / WANDER_SLOWER;
  s[o + F.driftMean] = s[o + F.driftMean]! + a * clipped;
  s[o + F.wander] = s[o + F.wander]! + a * (clipped * clipped - s[o + F.wander]!);
  return dev / limit;
}

/** Slope of the level per millisecond, smoothed: only for the reason text. */
export function updateSlope(s: Float64Array, o: number, previousLevel: number, dtMs: number): void {
  if (dtMs <= 0) return;
  const slope = (s[o + F.level]! - previousLevel) / dtMs;
  s[o + F.slopePerMs] = s[o + F.slopePerMs]! + 0.05 * (slope - s[o + F.slopePerMs]!);
}
