// Grid signals (OpenADR) and the facility load's answer.
import { busway, msFromTimeNs } from '@busway/proto';
import type { EngineContext } from './engine.js';
import type { GridWindow } from './engine-state.js';
import { gridIncident } from './incidents.js';
import { mean, pushSample, window } from './series.js';

/** A grid signal: one window per grid-response rule whose signal types it matches. */
export function onGridSignal(ctx: EngineContext, e: busway.v1.IEvent, t: number): void {
  const g = e.grid as busway.v1.IGridSignal;
  if (g.status === busway.v1.GridSignalStatus.GRID_SIGNAL_STATUS_CANCELLED) return;
  const startNs = msFromTimeNs(g.startNs);
  const start = startNs > 0 ? startNs : t;
  for (const rule of ctx.gridRules) {
    if (rule.signalTypes.length > 0 && !rule.signalTypes.includes(g.signalType ?? '')) continue;
    const topo = ctx.topology();
    const meters = topo.facilityMeters(rule.meterClasses);
    const owned = meters.filter((m) => {
      const path = topo.pathOf(m.id);
      return path ? ctx.scope.ownsRack(path) : false;
    });
    if (owned.length === 0) continue;
    const partial = owned.length < meters.length;
    const id = `${rule.kind}:${e.id ?? ''}${partial ? `:p${ctx.scope.partition}` : ''}`;
    if (ctx.state.grid.some((w) => w.id === id)) continue;
    ctx.state.grid.push({
      id,
      rule: rule.name,
      eventId: e.id ?? '',
      signalType: g.signalType ?? '',
      value: g.value ?? 0,
      unit: g.unit ?? '',
      program: g.program ?? '',
      start,
      end: start + rule.windowMs,
      partial,
    });
  }
}

/**
 * A facility meter's sample: the facility load is the sum of every meter's last value, recorded once all
 * meters of a timestamp are in (the first sample of a later timestamp closes it).
 */
export function onFacilitySample(ctx: EngineContext, asset: string, t: number, value: number): void {
  const st = ctx.state;
  if (st.facilityPending && t > st.facilityPending.t) {
    const total = Object.values(st.meters).reduce((a, b) => a + b, 0);
    const keepMs = Math.max(60_000, ...ctx.gridRules.map((r) => r.baselineMs + r.sustainMs + 10_000));
    pushSample(st.facility, st.facilityPending.t, total, keepMs);
    onFacilityLoad(ctx, st.facilityPending.t, total);
  }
  st.meters[asset] = value;
  st.facilityPending = { t };
}

function onFacilityLoad(ctx: EngineContext, t: number, total: number): void {
  for (const w of ctx.state.grid) {
    if (w.result || t < w.start || t > w.end) continue;
    const rule = ctx.gridRules.find((r) => r.name === w.rule);
    if (!rule) continue;
    if (w.baseline === undefined) {
      const before = window(ctx.state.facility, w.start - rule.baselineMs, w.start - 1e-6).v;
      w.baseline = before.length > 0 ? mean(before) : total;
    }
    const dev = total - w.baseline;
    const matches =
      Math.abs(dev) >= rule.minChange &&
      (rule.direction === 'any' || (rule.direction === 'down' ? dev < 0 : dev > 0));
    if (!matches) {
      w.runStart = undefined;
      w.runPrev = t;
      continue;
    }
    if (w.runStart === undefined) {
      w.runStart = t;
      w.runPrev ??= w.start;
    }
    if (t - w.runStart >= rule.sustainMs)
      w.result = { t: Math.max(w.start, ((w.runPrev ?? w.start) + w.runStart) / 2), magnitude: dev };
  }
}

/** Emits grid windows that found their answer, or that the watermark took past their end. */
export function closeGrid(ctx: EngineContext, watermarkMs: number): void {
  const grid = ctx.state.grid;
  for (let i = 0; i < grid.length;) {
    const w = grid[i] as GridWindow;
    if (!w.result && watermarkMs <= w.end) {
      i++;
      continue;
    }
    grid.splice(i, 1);
    const rule = ctx.gridRules.find((r) => r.name === w.rule);
    if (rule) ctx.emit(gridIncident(w, rule.kind, ctx.site));
  }
}
