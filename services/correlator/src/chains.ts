// Chains: a job's (or an unexplained step's) power steps on its racks and the thermal answers that follow.
import type { busway } from '@busway/proto';
import type { EngineContext } from './engine.js';
import type { ChainWindow, PowerStep, RackWatch, ThermalModel, ThermalWatch } from './engine-state.js';
import { poolDelays } from './delay-pool.js';
import { chainIncident, powerTargetsOf } from './incidents.js';
import { fitResponse, nearestSpan, response, type LoadStep, type ResponseFit } from './response-fit.js';
import type { JobChainRule, ThermalTarget, UnexplainedPowerRule } from './rules.js';
import { median, uniformSd, window, type SeriesData } from './series.js';
import { flowFactorAt, meanFlow } from './loop-flow.js';

type ChainRule = JobChainRule | UnexplainedPowerRule;

/** Matches a thermal model needs before it is trusted (as a delay prior, or to explain a rise). */
export const MIN_MATCHES = 3;

/** Matches a thermal model remembers. */
const RECENT_MATCHES = 40;

function ruleOf(ctx: EngineContext, name: string): ChainRule | undefined {
  return ctx.jobRules.find((r) => r.name === name) ?? ctx.powerRules.find((r) => r.name === name);
}

/** The thermal watches of a rack for a rule's thermal targets; a cooler shared by two racks is watched once. */
function thermalWatches(
  ctx: EngineContext,
  rack: string,
  targets: ThermalTarget[],
  seen: Set<string>,
): ThermalWatch[] {
  const topo = ctx.topology();
  return targets.flatMap((th, i) =>
    topo
      .select(rack, th.select, th.classes)
      .filter((a) => !seen.has(`${i}|${a.id}`) && seen.add(`${i}|${a.id}`))
      .map((a) => ({ asset: a.id, target: i, done: false })),
  );
}

function thermalSpanMs(targets: ThermalTarget[]): number {
  return Math.max(0, ...targets.map((t) => t.maxDelayMs + t.settleMs));
}

/** A job started: one chain per job-chain rule over the racks this partition owns. */
export function onJobStarted(ctx: EngineContext, e: busway.v1.IEvent, t: number): void {
  const job = e.job as busway.v1.IJobEvent;
  const jobId = job.jobId ?? '';
  const all = job.racks ?? [];
  const racks = all.filter((p) => ctx.scope.ownsRack(p));
  if (racks.length === 0) return;
  const topo = ctx.topology();
  for (const rule of ctx.jobRules) {
    const id =
      racks.length < all.length ? `${rule.kind}:${jobId}:p${ctx.scope.partition}` : `${rule.kind}:${jobId}`;
    if (ctx.state.chains.some((w) => w.id === id)) continue; // the same start announced twice
    const seen = new Set<string>();
    const watches: RackWatch[] = racks.map((path) => {
      const rack = path.rack ?? '';
      const power = rule.power.flatMap((p, i) =>
        topo
          .select(rack, p.select, p.classes)
          .filter((a) => !seen.has(a.id) && seen.add(a.id))
          .map((a) => ({ asset: a.id, target: i })),
      );
      return { rack, path, power, thermal: thermalWatches(ctx, rack, rule.thermal, seen) };
    });
    const windowMs = Math.max(...rule.power.map((p) => p.windowMs));
    const leadMs = Math.max(...rule.power.map((p) => p.leadMs));
    const w: ChainWindow = {
      id,
      rule: rule.name,
      kind: rule.kind,
      t,
      eventId: e.id ?? '',
      jobId,
      ...(e.timeResolutionMs ? { causeResolutionMs: e.timeResolutionMs } : {}),
      racks: watches,
      powerUntil: t + windowMs,
      closesAt: t + windowMs + thermalSpanMs(rule.thermal) + 2000,
    };
    ctx.state.chains.push(w);
    // steps stamped shortly before the job's own time (IT and OT clocks differ) are still its own
    const assets = new Set(watches.flatMap((r) => r.power.map((p) => p.asset)));
    const stepRacks = new Set([...assets].map((a) => topo.registry.rackOf(a) ?? topo.asset(a)?.rack ?? '_'));
    for (const r of stepRacks)
      for (const step of ctx.state.steps[r] ?? [])
        if (step.dp > 0 && !step.claimedBy && step.t >= t - leadMs && assets.has(step.asset))
          claimStep(ctx, w, step);
  }
}

/** Gives a rising step to the chain's first free power watch it fits; anchors the rack's thermal watches. */
export function claimStep(ctx: EngineContext, w: ChainWindow, step: PowerStep): boolean {
  const rule = ruleOf(ctx, w.rule);
  if (!rule) return false;
  const targets = powerTargetsOf(rule);
  const anchorTarget = Math.max(
    0,
    targets.findIndex((p) => p.required),
  );
  for (const rw of w.racks)
    for (const pw of rw.power) {
      if (pw.step || pw.asset !== step.asset) continue;
      const target = targets[pw.target];
      if (
        !target ||
        step.t < w.t - target.leadMs ||
        step.t > w.t + target.windowMs ||
        step.dp < target.minStep
      )
        continue;
      pw.step = step;
      step.claimedBy = w.rule;
      if (pw.target === anchorTarget)
        for (const th of rw.thermal) th.anchor ??= { t: step.t, dp: step.dp, gapMs: step.gapMs };
      return true;
    }
  return false;
}

/** An unexplained step: a chain of its own, so its thermal consequence is followed as a job's is. */
export function openUnexplained(ctx: EngineContext, step: PowerStep, ruleName: string): void {
  const rule = ctx.powerRules.find((r) => r.name === ruleName);
  if (!rule) return;
  const topo = ctx.topology();
  const thermal = thermalWatches(ctx, step.rack, rule.thermal, new Set());
  for (const th of thermal) th.anchor = { t: step.t, dp: step.dp, gapMs: step.gapMs };
  ctx.state.chains.push({
    id: `${rule.kind}:${step.asset}:${Math.round(step.t)}`,
    rule: rule.name,
    kind: rule.kind,
    t: step.t,
    racks: [
      {
        rack: step.rack,
        path: topo.pathOf(step.rack) ?? { site: ctx.site, rack: step.rack },
        power: [{ asset: step.asset, target: 0, step }],
        thermal,
      },
    ],
    powerUntil: step.t,
    closesAt: step.t + thermalSpanMs(rule.thermal) + 2000,
  });
}

/** Load steps that drive a thermal asset: those of its load assets, within [from, to]. */
export function loadSteps(
  ctx: EngineContext,
  asset: string,
  loadClasses: readonly string[],
  from: number,
  to: number,
): LoadStep[] {
  const { ids, racks } = ctx.topology().loadOf(asset, loadClasses);
  const out: LoadStep[] = [];
  for (const r of racks)
    for (const s of ctx.state.steps[r] ?? []) if (ids.has(s.asset) && s.t >= from && s.t <= to) out.push(s);
  return out;
}

/**
 * A new sample of a thermal asset: fits its answer to the anchored power step of every chain waiting on it,
 * over the load of everything it serves, once enough follows the earliest possible onset. The estimate is
 * taken when the best delay is no longer at the edge of what the data can show yet.
 */
export function evaluateThermal(ctx: EngineContext, asset: string, t: number): void {
  for (const w of ctx.state.chains) {
    const rule = ruleOf(ctx, w.rule);
    if (!rule) continue;
    for (const rw of w.racks)
      for (const th of rw.thermal) {
        if (th.done || !th.anchor || th.asset !== asset) continue;
        const target = rule.thermal[th.target];
        if (target) fitWatch(ctx, th, target, t);
      }
  }
}

function fitWatch(ctx: EngineContext, th: ThermalWatch, target: ThermalTarget, t: number): void {
  const anchor = th.anchor as NonNullable<ThermalWatch['anchor']>;
  if (t < anchor.t + target.minDelayMs + target.settleMs) return;
  const fullEnd = anchor.t + target.maxDelayMs + target.settleMs;
  const end = Math.min(t, fullEnd);
  const maxDelayMs = Math.min(target.maxDelayMs, end - anchor.t - target.settleMs);
  const series = ctx.seriesOf(th.asset, target.metric);
  const tau = target.timeConstantMs;
  if (series) {
    const from = anchor.t - target.preMs;
    const win = window(series, from, end);
    const steps = loadSteps(ctx, th.asset, target.loadClasses, from - 5 * tau, end);
    const keys = modelKeys(ctx, th.asset, target.metric);
    const flow = target.flowMetric ? ctx.seriesOf(th.asset, target.flowMetric) : undefined;
    const learned = priorDelay(keys.map((k) => ctx.state.models[k]));
    const expected = learned && atTransitFlow(learned, flow, anchor.t);
    const prior =
      expected && target.delayPriorSdMs > 0
        ? { delayMs: expected.delayMs, sdMs: expected.sdMs ?? target.delayPriorSdMs }
        : undefined;
    const fit = fitResponse(win.t, win.v, steps, {
      flowFactor: flow && flowFactorAt(win.t, window(flow, from - 3 * tau, end), tau),
      tauMs: tau,
      minDelayMs: target.minDelayMs,
      maxDelayMs,
      prior,
    });
    const atEdge = maxDelayMs < target.maxDelayMs && fit !== undefined && fit.delayMs > maxDelayMs - 1000;
    if (fit && !atEdge && fit.gainPerKw > 0) {
      const rise = (fit.gainPerKw * anchor.dp) / 1000;
      if (rise * response(end - anchor.t - fit.delayMs, tau) >= target.minRise) {
        const sdMs = delaySdOf(fit, prior, anchor.gapMs);
        th.result = { onsetT: anchor.t + fit.delayMs, delayMs: fit.delayMs, sdMs, rise };
        th.done = true;
        const transitFlow = flow && meanFlow(flow, anchor.t, anchor.t + fit.delayMs);
        if (!answeredElsewhere(ctx, th, anchor.t))
          for (const key of keys) learn(ctx, key, fit, tau > 0, transitFlow);
        return;
      }
    }
  }
  if (t >= fullEnd) th.done = true;
}

/**
 * The standard error of a delay as the incident states it: the fit's own (with the range a step answer fits
 * equally), the learned prior's, and where in its sampling gap the anchoring step fell (uniform: gap/√12).
 * Undefined when the data cannot say.
 */
function delaySdOf(
  fit: ResponseFit,
  prior: { sdMs: number } | undefined,
  anchorGapMs: number | undefined,
): number | undefined {
  const own2 = fit.delaySdMs ** 2 + uniformSd(fit.delayHighMs - fit.delayLowMs) ** 2;
  const fit2 = prior ? 1 / (1 / own2 + 1 / prior.sdMs ** 2) : own2;
  const sd = Math.hypot(Math.sqrt(fit2), uniformSd(anchorGapMs ?? 0));
  return Number.isFinite(sd) ? sd : undefined;
}

/**
 * Whether another open chain already fitted this asset's answer to a step at the same time: a lost job's racks
 * each open a chain on the same loop, and one answer learned twice would count as two events in the pool.
 */
function answeredElsewhere(ctx: EngineContext, th: ThermalWatch, anchorT: number): boolean {
  return ctx.state.chains.some((w) =>
    w.racks.some((r) =>
      r.thermal.some((o) => o !== th && o.asset === th.asset && o.result && o.anchor?.t === anchorT),
    ),
  );
}

/**
 * The models a thermal series learns into and draws its prior from, in that order: its own, then the one of all
 * series of its asset class and metric (same physics), so a series without history of its own is not alone.
 */
function modelKeys(ctx: EngineContext, asset: string, metric: string): string[] {
  const cls = ctx.topology().asset(asset)?.class;
  return cls ? [`${asset}|${metric}`, `class:${cls}|${metric}`] : [`${asset}|${metric}`];
}

/**
 * The delay a series is expected to show, from its own model and its class's (each once it has 3 matches), and
 * how far an event may stray from it when the matches measured that. Pooled delays (first-order answers): the
 * series' own, else its class's. Spans (step answers): the series' own evidence first, the class's to choose
 * within the span the series' own matches leave open.
 */
function priorDelay([own, pool]: (ThermalModel | undefined)[]): LearnedDelay | undefined {
  const mine = own && own.n >= MIN_MATCHES ? own : undefined;
  const theirs = pool && pool.n >= MIN_MATCHES ? pool : undefined;
  const pooled = [mine, theirs].find((m) => m?.delaySdMs !== undefined);
  if (pooled) return { delayMs: pooled.delayMs, sdMs: pooled.delaySdMs, flowRef: pooled.flowRef };
  if (!mine) return theirs && { delayMs: theirs.delayMs };
  const [lo, hi] = mine.delaySpanMs ?? [mine.delayMs, mine.delayMs];
  return { delayMs: theirs ? Math.min(hi, Math.max(lo, theirs.delayMs)) : mine.delayMs };
}

/** A delay a series is expected to show, stated at the loop flow `flowRef` when it has one. */
interface LearnedDelay {
  delayMs: number;
  sdMs?: number;
  flowRef?: number;
}

/**
 * A learned delay at the flow that carries this step's heat: a loop's delay is its volume over the mean flow of
 * the transit, which itself lasts the delay (a few rounds settle it). As learned without a flow to go by.
 */
function atTransitFlow(learned: LearnedDelay, flow: SeriesData | undefined, stepT: number): LearnedDelay {
  if (!learned.flowRef || !flow) return learned;
  let delayMs = learned.delayMs;
  for (let round = 0; round < 3; round++) {
    const f = meanFlow(flow, stepT, stepT + delayMs);
    if (f === undefined || f <= 0) return learned;
    delayMs = (learned.delayMs * learned.flowRef) / f;
  }
  const k = delayMs / learned.delayMs;
  return { delayMs, sdMs: learned.sdMs && learned.sdMs * k, flowRef: learned.flowRef };
}

/**
 * Remembers a thermal series' dead time and gain from its last matches, each from its data alone (the prior
 * left out, so it does not teach itself): the gain's median; the delay pooled by what each match could tell
 * (a first-order answer: a best delay with a standard error), or nearest to all the ranges they fitted (a step
 * answer between two samples fits a range). Where the loop's flow is known, each delay is restated at the
 * model's `flowRef` first, so matches at a low flow (longer delays) teach the same loop volume. A match that fits
 * much worse than the usual ones (a fault overlapped it) is left out, so faults do not teach the model to expect
 * them.
 */
function learn(
  ctx: EngineContext,
  key: string,
  fit: ResponseFit,
  pooled: boolean,
  /** The loop's mean flow while this match's heat crossed it, if known: its delays are restated at `flowRef`. */
  transitFlow: number | undefined,
): void {
  const rms = Math.sqrt(fit.sse / fit.n);
  const m = (ctx.state.models[key] ??= { delayMs: fit.delayMs, gainPerKw: fit.gainPerKw, n: 0, recent: [] });
  const usualRms = median(m.recent.map((r) => r[2]));
  if (m.recent.length >= 3 && rms > 1.5 * usualRms) return;
  const flow = transitFlow !== undefined && transitFlow > 0 ? transitFlow : undefined;
  if (flow) m.flowRef ??= flow;
  const k = flow && m.flowRef ? flow / m.flowRef : 1;
  m.recent.push([fit.delayLowMs * k, fit.gainPerKw, rms, fit.delayHighMs * k, fit.delaySdMs * k]);
  if (m.recent.length > RECENT_MATCHES) m.recent.shift();
  m.delaySpanMs = nearestSpan(m.recent.map((r) => [r[0], r[3] ?? r[0]]));
  m.delayMs = (m.delaySpanMs[0] + m.delaySpanMs[1]) / 2;
  const pool = pooled
    ? poolDelays(m.recent.map((r) => ({ delayMs: (r[0] + (r[3] ?? r[0])) / 2, sdMs: r[4] ?? Number.NaN })))
    : undefined;
  if (pool) m.delayMs = pool.delayMs;
  m.delaySdMs = pool?.priorSdMs;
  m.gainPerKw = median(m.recent.map((r) => r[1]));
  m.n++;
}

/** Emits and removes the chains that are complete, or that the watermark has passed. */
export function closeChains(ctx: EngineContext, watermarkMs: number): void {
  const chains = ctx.state.chains;
  for (let i = 0; i < chains.length;) {
    const w = chains[i] as ChainWindow;
    const powerFinal = watermarkMs > w.powerUntil || w.racks.every((r) => r.power.every((p) => p.step));
    if (watermarkMs > w.powerUntil)
      for (const r of w.racks) for (const th of r.thermal) if (!th.anchor) th.done = true;
    const complete = powerFinal && w.racks.every((r) => r.thermal.every((th) => th.done));
    if (!complete && watermarkMs <= w.closesAt) {
      i++;
      continue;
    }
    chains.splice(i, 1);
    const rule = ruleOf(ctx, w.rule);
    if (rule) ctx.emit(chainIncident(w, rule, ctx.topology(), ctx.site));
  }
}
