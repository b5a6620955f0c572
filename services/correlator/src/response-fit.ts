// Fits a thermal series to the load that drives it: dead time, then a first-order lag (or a step).

/** A change of load (W) at time t: a rack's power step up or down. */
export interface LoadStep {
  t: number;
  dp: number;
}

export interface ResponseFitOptions {
  /** First-order time constant of the response; 0 for an immediate step. */
  tauMs: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** The delay this series has shown before, and how far it may vary: combined with this fit's evidence. */
  prior?: { delayMs: number; sdMs: number };
  /**
   * Per sample, how much warmer the same heat leaves the loop than at its usual flow (1: usual; 1.4: flow cut
   * to 70 %), already lagged like the answer: a blockage or a weak pump then explains its own rise.
   */
  flowFactor?: readonly number[];
}

export interface ResponseFit {
  /** Dead time between a load step and the start of its answer. */
  delayMs: number;
  /** The delays this event's data alone fit best, prior aside: a range for a step answer between two samples. */
  delayLowMs: number;
  delayHighMs: number;
  /**
   * Standard error of this event's own delay estimate (prior aside): from the model's slope in the delay for a
   * first-order answer, from how fast the fit worsens beyond its best range for a step. About 0.3 s for a 20 kW
   * step seen at 1 Hz through a 20 s lag; Infinity when the data cannot say.
   */
  delaySdMs: number;
  /** Answer per kW of load step, in the series' unit (steady state). */
  gainPerKw: number;
  /** Residual sum of squares of the full model, and of a level + trend alone. */
  sse: number;
  sseTrend: number;
  n: number;
}

export const response = (x: number, tauMs: number): number =>
  x <= 0 ? 0 : tauMs > 0 ? 1 - Math.exp(-x / tauMs) : 1;

/** Least squares for up to four columns by normal equations (a tiny ridge keeps an absent column at 0). */
function solve(cols: Float64Array[], y: ArrayLike<number>): { beta: number[]; sse: number } {
  const p = cols.length;
  const n = y.length;
  const a: number[][] = Array.from({ length: p }, () => new Array<number>(p + 1).fill(0));
  for (let i = 0; i < p; i++) {
    const ci = cols[i] as Float64Array;
    const row = a[i] as number[];
    for (let j = i; j < p; j++) {
      const cj = cols[j] as Float64Array;
      let s = 0;
      for (let k = 0; k < n; k++) s += (ci[k] as number) * (cj[k] as number);
      row[j] = s;
      (a[j] as number[])[i] = s;
    }
    let s = 0;
    for (let k = 0; k < n; k++) s += (ci[k] as number) * (y[k] as number);
    row[p] = s;
    row[i] = (row[i] as number) + 1e-9 * (1 + (row[i] as number));
  }
  for (let i = 0; i < p; i++) {
    let piv = i;
    for (let r = i + 1; r < p; r++)
      if (Math.abs((a[r] as number[])[i] as number) > Math.abs((a[piv] as number[])[i] as number)) piv = r;
    [a[i], a[piv]] = [a[piv] as number[], a[i] as number[]];
    const ai = a[i] as number[];
    const d = ai[i] as number;
    if (Math.abs(d) < 1e-300) continue;
    for (let r = 0; r < p; r++) {
      if (r === i) continue;
      const ar = a[r] as number[];
      const f = (ar[i] as number) / d;
      if (f === 0) continue;
      for (let c = i; c <= p; c++) ar[c] = (ar[c] as number) - f * (ai[c] as number);
    }
  }
  const beta = a.map((row, i) => {
    const d = row[i] as number;
    return Math.abs(d) < 1e-300 ? 0 : (row[p] as number) / d;
  });
  let sse = 0;
  for (let k = 0; k < n; k++) {
    let fit = 0;
    for (let i = 0; i < p; i++) fit += (beta[i] as number) * ((cols[i] as Float64Array)[k] as number);
    const r = (y[k] as number) - fit;
    sse += r * r;
  }
  return { beta, sse };
}

/** Candidates from `from` to `to` every `step`, both ends included. */
function grid(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let x = from; x < to; x += step) out.push(x);
  out.push(to);
  return out;
}

/**
 * Fits y(t) = level + trend·t + gain·Σ dp_k·r(t - t_k - delay) over the samples, where r is the unit response
 * (1 - e^(-x/τ), or a step), searching the delay coarse then fine. The trend absorbs what older load steps
 * still do. When several delays fit equally (a step response between two samples), their middle is taken.
 */
export function fitResponse(
  t: readonly number[],
  y: readonly number[],
  steps: readonly LoadStep[],
  opts: ResponseFitOptions,
): ResponseFit | undefined {
  const n = t.length;
  if (n < 4 || opts.maxDelayMs < opts.minDelayMs) return undefined;
  const t0 = t[0] as number;
  const ones = new Float64Array(n).fill(1);
  const trend = Float64Array.from(t, (x) => (x - t0) / 1000);
  const flow = opts.flowFactor;
  // the heat already in the loop shows more when the flow drops: one more column, its size fitted
  const fixed = flow ? [ones, trend, Float64Array.from(flow, (f) => f - 1)] : [ones, trend];
  const base = solve(fixed, y);
  const load = new Float64Array(n);
  const evaluate = (delayMs: number) => {
    load.fill(0);
    for (const st of steps)
      for (let k = 0; k < n; k++)
        load[k] =
          (load[k] as number) + (st.dp / 1000) * response((t[k] as number) - st.t - delayMs, opts.tauMs);
    if (flow) for (let k = 0; k < n; k++) load[k] = (load[k] as number) * (flow[k] as number);
    return solve([...fixed, load], y);
  };
  let best = { sse: Number.POSITIVE_INFINITY, delay: opts.minDelayMs };
  for (const delay of grid(opts.minDelayMs, opts.maxDelayMs, 250)) {
    const r = evaluate(delay);
    if (r.sse < best.sse) best = { sse: r.sse, delay };
  }
  const fine = grid(
    Math.max(opts.minDelayMs, best.delay - 250),
    Math.min(opts.maxDelayMs, best.delay + 250),
    25,
  ).map((delay) => ({ delay, sse: evaluate(delay).sse }));
  const minSse = Math.min(...fine.map((f) => f.sse));
  const tied = (sse: number) => sse <= minSse + 1e-9 * (1 + minSse);
  const ties = fine.filter((f) => tied(f.sse)).map((f) => f.delay);
  // a step answer fits equally anywhere between two samples: widen the tie to its full extent
  let low = Math.min(...ties);
  let high = Math.max(...ties);
  while (low - 25 >= opts.minDelayMs && tied(evaluate(low - 25).sse)) low -= 25;
  while (high + 25 <= opts.maxDelayMs && tied(evaluate(high + 25).sse)) high += 25;
  let delayMs = (low + high) / 2;
  // residual variance per degree of freedom: the fixed columns, the load's gain and the delay
  const sigma2 = Math.max(1e-12, minSse / Math.max(1, n - fixed.length - 2));
  let delaySdMs: number;
  if (opts.tauMs > 0) {
    const gain = evaluate(delayMs).beta[fixed.length] ?? 0; // fills `load` for this delay too
    delaySdMs = delaySdFirstOrder(t, steps, fixed, load, gain, delayMs, sigma2, opts);
  } else delaySdMs = delaySd(evaluate, low, high, minSse, sigma2, opts);
  if (opts.prior) {
    // what the series showed before weighs against this event's own evidence, as a Gaussian prior on the delay
    const cost = (d: number) =>
      evaluate(d).sse / sigma2 + ((d - opts.prior!.delayMs) / opts.prior!.sdMs) ** 2;
    const from = Math.max(opts.minDelayMs, Math.min(delayMs, opts.prior.delayMs) - 100);
    const to = Math.min(opts.maxDelayMs, Math.max(delayMs, opts.prior.delayMs) + 100);
    let bestCost = Number.POSITIVE_INFINITY;
    for (const d of grid(from, to, 25)) {
      const c = cost(d);
      if (c < bestCost) {
        bestCost = c;
        delayMs = d;
      }
    }
  }
  const chosen = evaluate(delayMs);
  return {
    delayMs,
    delayLowMs: low,
    delayHighMs: high,
    delaySdMs,
    gainPerKw: chosen.beta[fixed.length] ?? 0,
    sse: chosen.sse,
    sseTrend: base.sse,
    n,
  };
}

/**
 * A first-order answer's delay standard error from the model's slope in the delay (Gauss-Newton): σ over the
 * part of that slope the other columns (level, trend, flow, the load's gain) cannot take up. Unlike the residual
 * sum's curvature, it does not move with the noise of the very samples it judges, which made it 1.2-1.4 times
 * too small on the simulator's loops and read as a spread between events.
 */
function delaySdFirstOrder(
  t: readonly number[],
  steps: readonly LoadStep[],
  fixed: Float64Array[],
  /** The load column at `delayMs`, flow applied, and its fitted gain. */
  load: Float64Array,
  gain: number,
  delayMs: number,
  sigma2: number,
  opts: ResponseFitOptions,
): number {
  const n = t.length;
  const slope = new Float64Array(n);
  for (const st of steps)
    for (let k = 0; k < n; k++) {
      const x = (t[k] as number) - st.t - delayMs;
      // d/d(delay) of dp·(1 - e^(-x/τ)) with x = t - t_k - delay
      if (x > 0)
        slope[k] = (slope[k] as number) - ((gain * st.dp) / 1000 / opts.tauMs) * Math.exp(-x / opts.tauMs);
    }
  const flow = opts.flowFactor;
  if (flow) for (let k = 0; k < n; k++) slope[k] = (slope[k] as number) * (flow[k] as number);
  const { sse } = solve([...fixed, load], slope);
  return sse > 0 ? Math.sqrt(sigma2 / sse) : Number.POSITIVE_INFINITY;
}

/**
 * The delay's standard error from the curvature of the residual sum of squares just outside the best range:
 * near its minimum, sse(d) ≈ sse_min + a·(d - best)², so the log-likelihood's width is σ/√a.
 */
function delaySd(
  evaluate: (delayMs: number) => { sse: number },
  low: number,
  high: number,
  minSse: number,
  sigma2: number,
  opts: ResponseFitOptions,
): number {
  const h = 100;
  const curvatures: number[] = [];
  const below = Math.max(opts.minDelayMs, low - h);
  const above = Math.min(opts.maxDelayMs, high + h);
  if (below < low) curvatures.push((evaluate(below).sse - minSse) / (low - below) ** 2);
  if (above > high) curvatures.push((evaluate(above).sse - minSse) / (above - high) ** 2);
  const a = curvatures.reduce((x, y) => x + y, 0) / Math.max(1, curvatures.length);
  return a > 0 ? Math.sqrt(sigma2 / a) : Number.POSITIVE_INFINITY;
}

/** The load's predicted contribution at time t with a known gain and delay. */
export function loadResponse(
  t: number,
  steps: readonly LoadStep[],
  gainPerKw: number,
  delayMs: number,
  tauMs: number,
): number {
  let s = 0;
  for (const st of steps) s += (st.dp / 1000) * response(t - st.t - delayMs, tauMs);
  return gainPerKw * s;
}

/** Least squares of y on columns (level, trend, ...): coefficients and residual sum of squares. */
export function leastSquares(cols: Float64Array[], y: readonly number[]): { beta: number[]; sse: number } {
  return solve(cols, y);
}

/**
 * The values nearest to a set of ranges, by the sum of their distances to them (0 inside one): what all ranges
 * share when they overlap, else the median's span (one point for an odd count of points).
 */
export function nearestSpan(ranges: readonly (readonly [number, number])[]): [number, number] {
  if (ranges.length === 0) return [Number.NaN, Number.NaN];
  // the sum is convex and piecewise linear: its minimum lies on range ends
  const cost = (x: number) => ranges.reduce((s, [lo, hi]) => s + Math.max(0, lo - x, x - hi), 0);
  const ends = ranges.flat();
  const costs = ends.map(cost);
  const min = Math.min(...costs);
  const at = ends.filter((_, i) => (costs[i] as number) <= min + 1e-9 * (1 + min));
  return [Math.min(...at), Math.max(...at)];
}
