// A cooling loop's flow as a factor on its temperature rise: the same heat leaves warmer when less water carries it.
import { response } from './response-fit.js';
import { indexAtOrAfter, median, type SeriesData } from './series.js';

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

/**
 * The loop's mean flow from `from` to `to`, each sample held until the next: what carries heat through the loop
 * then (plug flow: heat crosses it once the loop's volume has passed). From the first sample when none is as
 * old as `from`; undefined when none is as old as `to`.
 */
export function meanFlow(flow: SeriesData, from: number, to: number): number | undefined {
  const n = flow.t.length;
  let i = indexAtOrAfter(flow, from);
  if (i === n || (flow.t[i] as number) > from) i--; // the sample that holds at `from`
  const start = i < 0 ? (flow.t[0] as number) : from;
  i = Math.max(0, i);
  if (n === 0 || start > to) return undefined;
  if (to <= start) return flow.v[i];
  let area = 0;
  for (; i < n && (flow.t[i] as number) < to; i++) {
    const a = Math.max(start, flow.t[i] as number);
    const b = Math.min(to, i + 1 < n ? (flow.t[i + 1] as number) : to);
    area += (flow.v[i] as number) * (b - a);
  }
  return area / (to - start);
}
