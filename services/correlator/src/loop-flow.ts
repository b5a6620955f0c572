// A cooling loop's flow as a factor on its temperature rise: the same heat leaves warmer when less water carries it.
import { response } from './response-fit.js';
import { median } from './series.js';

/** Below this change over a window, the flow is steady: its factor would only add noise to a fit. */
const MIN_CHANGE = 0.02;

/**
 * At each of `times` (ascending), the loop's usual flow (the window's median) over its flow then, lagged through
 * the loop's first-order answer (time constant `tauMs`): 1 at usual flow, 1.43 some time after it fell to 70 %.
 * Undefined when it stays within 2 % of its own range, or there is no flow to go by.
 */
export function flowFactorAt(
  times: readonly number[],
  flow: { t: readonly number[]; v: readonly number[] },
  tauMs: number,
): number[] | undefined {
  const m = flow.t.length;
  if (m < 2 || times.length === 0) return undefined;
  const usual = median(flow.v);
  if (!(usual > 0)) return undefined;
  const inv = flow.v.map((v) => usual / Math.max(v, usual * 0.05));
  const out: number[] = [];
  let x = inv[0] as number;
  let at = flow.t[0] as number;
  let j = 0;
  for (const time of times) {
    // each flow sample holds until the next: the lag moves toward it meanwhile
    while (j + 1 < m && (flow.t[j + 1] as number) <= time) {
      const next = flow.t[j + 1] as number;
      x += ((inv[j] as number) - x) * response(next - at, tauMs);
      at = next;
      j++;
    }
    out.push(time > at ? x + ((inv[j] as number) - x) * response(time - at, tauMs) : x);
  }
  return Math.max(...out) - Math.min(...out) < MIN_CHANGE ? undefined : out;
}
