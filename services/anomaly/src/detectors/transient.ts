/**
 * The fast path for transients: one sample far outside the robust band is a spike at once, without waiting
 * for confirmation. `zn` is the residual in tail-corrected robust sigmas; the result is signed severity
 * (1 at the threshold).
 */
export function spikeSeverity(zn: number, zThreshold: number): number {
  return zn / zThreshold;
}
