// Unexplained thermal rises: a sustained rise that the series' load model does not predict.
import type { EngineContext } from './engine.js';
import type { ThermalModel } from './engine-state.js';
import { loadSteps, MIN_MATCHES } from './chains.js';
import { thermalIncident } from './incidents.js';
import { leastSquares, loadResponse, type LoadStep } from './response-fit.js';
import type { UnexplainedThermalRule } from './rules.js';
import { indexAtOrAfter, mean, type SeriesData } from './series.js';

type Watch = UnexplainedThermalRule['watch'][number];

/**
 * A new sample of a thermal series. The load's predicted part is taken off the series (dead time and gain
 * learned from the chains it matched); when the last `sustainMs` of what is left sit at least `minRise` above
 * the `preMs` before them, and none fell back (a one-sample spike is a sensor fault, not heat), the rise is
 * unexplained: an incident, timed by fitting its onset. Before a model is learned, a rise that any load step
 * could have caused is given the benefit of the doubt.
 */
export function checkUnexplainedRise(ctx: EngineContext, key: string, s: SeriesData, t: number): void {
  if (ctx.thermalRules.length === 0 || (ctx.state.cooldowns[key] ?? Number.NEGATIVE_INFINITY) > t) return;
  const cls = ctx.topology().asset(s.asset)?.class;
  for (const rule of ctx.thermalRules)
    for (const w of rule.watch) {
      if (w.metric !== s.metric || !cls || !w.classes.includes(cls)) continue;
      const from = t - w.sustainMs - w.preMs;
      const first = indexAtOrAfter(s, from);
      const recentFrom = indexAtOrAfter(s, t - w.sustainMs);
      if (recentFrom - first < 3 || s.t.length - recentFrom < 2) return;
      const tau = w.timeConstantMs;
      const steps = loadSteps(ctx, s.asset, w.loadClasses, from - 5 * tau - w.maxDelayMs, t);
      // the cheap test first: the raw series must rise by half the threshold, unless a load drop could hide it
      if (rawRise(s, first, recentFrom) < w.minRise / 2 && !steps.some((st) => st.dp < 0)) return;
      const model = ctx.state.models[key];
      const trusted = model && model.n >= MIN_MATCHES ? model : undefined;
      const left = residual(s, first, steps, trusted, tau);
      const onset = riseOnset(s, left, first, recentFrom, w);
      if (onset === undefined) return;
      ctx.state.cooldowns[key] = t + w.preMs; // one verdict per rise
      const verdict = onsetFit(s, left, first, onset, t, w.minRise);
      // no model yet: a rise that a load step could have caused gets the benefit of the doubt
      const couldCause = (at: number) =>
        steps.some((st) => st.dp > 0 && at - st.t >= w.minDelayMs - 2000 && at - st.t <= w.maxDelayMs + 2000);
      if (verdict && !trusted && couldCause(verdict.onsetT)) return;
      if (verdict)
        ctx.emit(
          thermalIncident(
            rule.kind,
            s.asset,
            s.metric,
            verdict.onsetT,
            verdict.rise,
            t,
            ctx.topology(),
            ctx.site,
          ),
        );
      return;
    }
}

/** Mean of the recent samples less the mean of the first half of the ones before them, without copying. */
function rawRise(s: SeriesData, first: number, recentFrom: number): number {
  const half = first + Math.max(2, (recentFrom - first) >> 1);
  let a = 0;
  for (let i = first; i < half; i++) a += s.v[i] as number;
  let b = 0;
  for (let i = recentFrom; i < s.v.length; i++) b += s.v[i] as number;
  return b / (s.v.length - recentFrom) - a / (half - first);
}

/** The series from index `first` on, less what the load explains (nothing without a model). */
function residual(
  s: SeriesData,
  first: number,
  steps: LoadStep[],
  model: ThermalModel | undefined,
  tau: number,
): number[] {
  const raw: number[] = [];
  for (let i = first; i < s.t.length; i++)
    raw.push(
      (s.v[i] as number) -
        (model ? loadResponse(s.t[i] as number, steps, model.gainPerKw, model.delayMs, tau) : 0),
    );
  // a three-sample median: a one-sample spike is a sensor's fault, not heat, and must not bend the fits
  return raw.map((v, i) =>
    i === 0 || i === raw.length - 1 ? v : median3(raw[i - 1] as number, v, raw[i + 1] as number),
  );
}

function median3(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

/**
 * A sustained rise of the residual ending now: the last `sustainMs` at least `minRise` above the first half of
 * the `preMs` before them, none of them less than half of it. Returns where it passed half for good.
 */
function riseOnset(
  s: SeriesData,
  left: number[],
  first: number,
  recentFrom: number,
  w: Watch,
): number | undefined {
  const split = recentFrom - first;
  const base = mean(left.slice(0, Math.max(2, split >> 1)));
  const recent = left.slice(split);
  if (mean(recent) - base < w.minRise || Math.min(...recent) - base < w.minRise / 2) return undefined;
  // where it last was below half: a spike earlier in the window does not start the rise
  let below = left.length - 1;
  while (below >= 0 && (left[below] as number) - base >= w.minRise / 2) below--;
  const i = first + below + 1;
  return ((s.t[i - 1] ?? (s.t[i] as number)) + (s.t[i] as number)) / 2;
}

/**
 * Times the rise by a hinge: level + trend, then a ramp from the onset (a first-order rise starts as a ramp,
 * whatever its time constant), searched back from where it passed half. Returns it when what the load does not
 * explain reaches half the rise threshold by now and stands out of the noise before it.
 */
function onsetFit(
  s: SeriesData,
  left: number[],
  first: number,
  onset: number,
  t: number,
  minRise: number,
): { onsetT: number; rise: number } | undefined {
  const ts = s.t.slice(first);
  const t0 = ts[0] as number;
  const ones = new Float64Array(ts.length).fill(1);
  const trend = Float64Array.from(ts, (x) => (x - t0) / 1000);
  let best = { sse: Number.POSITIVE_INFINITY, onsetT: onset, beta: [] as number[] };
  for (let c = Math.max(t0 + 3000, onset - 20_000); c <= Math.min(onset + 1000, t - 1000); c += 100) {
    const ramp = Float64Array.from(ts, (x) => Math.max(0, x - c) / 1000);
    const r = leastSquares([ones, trend, ramp], left);
    if (r.sse < best.sse) best = { sse: r.sse, onsetT: c, beta: r.beta };
  }
  const [, slope = 0, ramp = 0] = best.beta;
  const pre = ts.findIndex((x) => x >= best.onsetT);
  if (pre < 3 || ramp <= 0) return undefined;
  const preFit = leastSquares([ones.slice(0, pre), trend.slice(0, pre)], left.slice(0, pre));
  const sigma = Math.sqrt(preFit.sse / Math.max(1, pre - 2));
  const rise = (ramp * (t - best.onsetT)) / 1000;
  return rise >= minRise / 2 && rise >= 4 * sigma && ramp > slope ? { onsetT: best.onsetT, rise } : undefined;
}
