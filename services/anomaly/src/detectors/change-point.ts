import { F } from '../state-layout.js';

/** CUSUM allowance in sigmas: shifts smaller than about twice this are left to the drift detector. */
export const CUSUM_ALLOWANCE = 1;
/** Each sample adds at most this many sigmas, so a single spike cannot make a change point. */
export const CUSUM_CLIP = 4;

/**
 * Two-sided CUSUM (Page) on the robust residual. Returns the signed severity: the larger side's sum over
 * the threshold, positive for an upward change.
 */
export function updateCusum(s: Float64Array, o: number, zn: number, threshold: number): number {
  const z = zn > CUSUM_CLIP ? CUSUM_CLIP : zn < -CUSUM_CLIP ? -CUSUM_CLIP : zn;
  const up = Math.max(0, s[o + F.cusumUp]! + z - CUSUM_ALLOWANCE);
  const down = Math.max(0, s[o + F.cusumDown]! - z - CUSUM_ALLOWANCE);
  s[o + F.cusumUp] = up;
  s[o + F.cusumDown] = down;
  return up >= down ? up / threshold : -down / threshold;
}

export function resetCusum(s: Float64Array, o: number): void {
  s[o + F.cusumUp] = 0;
  s[o + F.cusumDown] = 0;
}
