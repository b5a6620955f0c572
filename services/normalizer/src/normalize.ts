import { type busway, canonicalUnitOf, metricTokens, unregisteredPath } from '@busway/proto';
import type { Registry } from '@busway/registry';
import { isPoison, reasonOf, UnitMismatch, type DeadLetterReason } from '@busway/runtime';
import { applyTimeRules, type TimeRules } from './time-rules.js';
import { toCanonical, toUcum } from './units.js';

export type Normalized = { ok: busway.v1.ISample } | { rejected: DeadLetterReason };

/** The metric name at the source: the part of the point id after the source id. */
function sourceMetricName(s: busway.v1.ISample): string {
  const id = s.pointId ?? '';
  const sourceId = s.source?.sourceId ?? '';
  const i = sourceId ? id.indexOf(`:${sourceId}:`) : -1;
  return i >= 0 ? id.slice(i + sourceId.length + 2) : id.slice(id.lastIndexOf(':') + 1);
}

/** A registered numeric sample into its canonical unit, after the point's scale factor (e.g. SNMP tenths). */
function convertValue(s: busway.v1.ISample, sourceUnit: string, scale: number, pointId: string): void {
  const metric = s.metric ?? '';
  const canonical = canonicalUnitOf(metric);
  if (canonical === '' && scale === 1) {
    s.unit = sourceUnit ? (toUcum(sourceUnit) ?? sourceUnit) : ''; // a state or count keeps its type
    return;
  }
  if (sourceUnit === '' && canonical !== '')
    throw new UnitMismatch(
      `no unit for ${pointId}: the source sends none and the registry gives none (metric ${metric})`,
    );
  const value = (s.doubleValue ?? Number(s.intValue?.toString())) * scale;
  const c = toCanonical(value, sourceUnit, metric, pointId);
  s.doubleValue = c.value;
  s.intValue = undefined;
  s.unit = c.unit;
}

/**
 * One raw sample into the shape every consumer trusts: UNS path and taxonomy metric from the registry (or a
 * derived path, flagged unregistered), the value in the canonical unit, time on UTC with its quality.
 */
export function normalizeSample(
  raw: busway.v1.ISample,
  registry: Registry,
  site: string,
  rules: TimeRules,
): Normalized {
  if (!raw.pointId) return { rejected: { code: 'contract-violation', message: 'sample without a point id' } };
  const s: busway.v1.ISample = { ...raw, flags: [...(raw.flags ?? [])] };
  const point = registry.point(raw.pointId);
  const path = point ? registry.pathOf(point.asset) : undefined;
  if (point && path) {
    s.path = path;
    s.metric = point.metric;
    s.unregistered = false;
  } else {
    s.path = unregisteredPath(site, raw.source?.sourceId || raw.pointId);
    s.metric = metricTokens(sourceMetricName(raw));
    s.unregistered = true;
  }
  const sourceUnit = raw.unit || point?.unit || '';
  try {
    if (s.doubleValue != null || s.intValue != null) {
      if (s.unregistered) s.unit = sourceUnit ? (toUcum(sourceUnit) ?? sourceUnit) : '';
      else convertValue(s, sourceUnit, point?.scale ?? 1, raw.pointId);
    } else {
      s.unit = sourceUnit ? (toUcum(sourceUnit) ?? sourceUnit) : '';
    }
  } catch (err) {
    if (isPoison(err)) return { rejected: reasonOf(err) };
    throw err;
  }
  applyTimeRules(s, rules);
  return { ok: s };
}

/** Fills a job event's racks from its nodes, through the registry. */
export function enrichJob(e: busway.v1.IEvent, registry: Registry): busway.v1.IEvent {
  if (!e.job) return e;
  const racks = new Map<string, busway.v1.IUnsPath>();
  for (const node of e.job.nodes ?? []) {
    const rack = registry.rackOf(node);
    const path = rack ? registry.pathOf(rack) : undefined;
    if (rack && path) racks.set(rack, path);
  }
  return { ...e, job: { ...e.job, racks: [...racks.values()] } };
}
