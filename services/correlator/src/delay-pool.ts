// Pools the delays a thermal series showed in its recent matches: one loop delay, and how far events stray from it.
import { median } from './series.js';

/** One match's own delay estimate (its data alone) and that estimate's standard error. */
export interface DelayEvidence {
  delayMs: number;
  sdMs: number;
}

export interface PooledDelay {
  /** The loop's delay: the matches' estimates weighted by what each can tell. */
  delayMs: number;
  /** How far one event's true delay strays from the loop's (0 when the scatter is all estimation noise). */
  spreadMs: number;
  /** The width of the prior for the next event: its straying and the pooled delay's own error together. */
  priorSdMs: number;
  /** Matches used (a match far outside the others, a fault that bent its fit, is left out). */
  n: number;
}

/** Fewest matches whose scatter tells noise from real straying. */
export const MIN_POOLED = 5;

/**
 * A random-effects pool (DerSimonian-Laird): each estimate is the loop's delay plus the event's own straying
 * (spread τ) plus estimation noise (its standard error). τ² is what the scatter has beyond the noise the
 * standard errors explain. Estimates a fault bent are screened out first, by the median and the median
 * absolute deviation (which several of them together cannot move): beyond 3 combined widths of the median.
 */
export function poolDelays(evidence: readonly DelayEvidence[]): PooledDelay | undefined {
  const usable = evidence.filter((e) => Number.isFinite(e.delayMs) && Number.isFinite(e.sdMs) && e.sdMs > 0);
  if (usable.length < MIN_POOLED) return undefined;
  const center = median(usable.map((e) => e.delayMs));
  const robustSd = 1.4826 * median(usable.map((e) => Math.abs(e.delayMs - center)));
  const robustTau2 = Math.max(0, robustSd ** 2 - median(usable.map((e) => e.sdMs ** 2)));
  return randomEffects(
    usable.filter((e) => Math.abs(e.delayMs - center) <= 3 * Math.sqrt(e.sdMs ** 2 + robustTau2)),
  );
}

function randomEffects(xs: readonly DelayEvidence[]): PooledDelay | undefined {
  if (xs.length < MIN_POOLED) return undefined;
  let sw = 0;
  let sw2 = 0;
  let swd = 0;
  for (const e of xs) {
    const w = 1 / e.sdMs ** 2;
    sw += w;
    sw2 += w * w;
    swd += w * e.delayMs;
  }
  const fixed = swd / sw;
  let q = 0;
  for (const e of xs) q += (e.delayMs - fixed) ** 2 / e.sdMs ** 2;
  const tau2 = Math.max(0, (q - (xs.length - 1)) / (sw - sw2 / sw));
  let sws = 0;
  let swsd = 0;
  for (const e of xs) {
    const w = 1 / (e.sdMs ** 2 + tau2);
    sws += w;
    swsd += w * e.delayMs;
  }
  return {
    delayMs: swsd / sws,
    spreadMs: Math.sqrt(tau2),
    priorSdMs: Math.sqrt(tau2 + 1 / sws),
    n: xs.length,
  };
}
