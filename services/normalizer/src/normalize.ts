import { type busway, canonicalUnitOf, metricTokens, Subjects, unregisteredPath } from '@busway/proto';
import type { Registry } from '@busway/registry';
import { reasonOf, UnitMismatch, type DeadLetterReason } from '@busway/runtime';
import { applyTimeRules, type TimeRules } from './time-rules.js';
import { conversion, toUcum } from './units.js';

export type Normalized =
  { ok: busway.v1.ISample; subject: string; deadband?: number } | { rejected: DeadLetterReason };

/** What the registry says about one point, worked out once per registry version: the hot path only reads it. */
interface PointPlan {
  path: busway.v1.IUnsPath;
  metric: string;
  /** NORM subject of the point's rack or area. */
  subject: string;
  /** Canonical UCUM unit of the metric; '' for unitless kinds. */
  canonical: string;
  scale: number;
  registryUnit: string;
  deadband?: number;
  /** The last source unit seen and its conversion to canonical (a point almost never changes unit). */
  unit?: string;
  conv?: { scale: number; offset: number } | UnitMismatch;
}

/** The metric name at the source: the part of the point id after the source id. */
function sourceMetricName(s: busway.v1.ISample): string {
  const id = s.pointId ?? '';
  const sourceId = s.source?.sourceId ?? '';
  const i = sourceId ? id.indexOf(`:${sourceId}:`) : -1;
  return i >= 0 ? id.slice(i + sourceId.length + 2) : id.slice(id.lastIndexOf(':') + 1);
}

/** The linear conversion from a source unit to a metric's canonical unit, or the mismatch that forbids it. */
function conversionFor(
  sourceUnit: string,
  plan: PointPlan,
  pointId: string,
): { scale: number; offset: number } | UnitMismatch {
  if (sourceUnit === '')
    return new UnitMismatch(
      `no unit for ${pointId}: the source sends none and the registry gives none (metric ${plan.metric})`,
    );
  const ucum = toUcum(sourceUnit);
  if (ucum === null)
    return new UnitMismatch(
      `unit '${sourceUnit}' of ${pointId} is not UCUM nor a known spelling (metric ${plan.metric})`,
    );
  const c = conversion(ucum, plan.canonical);
  if (typeof c === 'string')
    return new UnitMismatch(
      `unit '${sourceUnit}' (${ucum}) of ${pointId} does not fit ${plan.metric}, which is in ${plan.canonical}: ${c}`,
    );
  return c;
}

/**
 * Turns raw samples into the shape every consumer trusts: UNS path and taxonomy metric from the registry (or
 * a derived path, flagged unregistered), the value in the canonical unit, time on UTC with its quality.
 * It takes ownership of each sample it is given and edits it in place (no copy per sample); a rejected
 * sample is left as it came, for the dead letter.
 */
export class SampleNormalizer {
  private registry: Registry;
  private readonly plans = new Map<string, PointPlan>();
  /** Paths and subjects shared by every point of an asset: one object per asset, not per point. */
  private readonly assets = new Map<string, { path: busway.v1.IUnsPath; subject: string }>();

  constructor(
    registry: Registry,
    private readonly site: string,
    private readonly rules: TimeRules,
  ) {
    this.registry = registry;
  }

  /** Switches to a newer registry: plans are worked out again, so a re-mapped point moves at once. */
  use(registry: Registry): void {
    if (registry === this.registry) return;
    this.registry = registry;
    this.plans.clear();
    this.assets.clear();
  }

  private assetOf(assetId: string): { path: busway.v1.IUnsPath; subject: string } | undefined {
    const cached = this.assets.get(assetId);
    if (cached) return cached;
    const path = this.registry.pathOf(assetId);
    if (!path) return undefined;
    const subject = Subjects.normSamples(
      path.site ?? this.site,
      path.hall ?? '_',
      path.row ?? '_',
      path.rack ?? '_',
    );
    const entry = { path, subject };
    this.assets.set(assetId, entry);
    return entry;
  }

  /** Plans of registered points only: unknown ids are not remembered, so junk cannot grow this map. */
  private planOf(pointId: string): PointPlan | undefined {
    const cached = this.plans.get(pointId);
    if (cached) return cached;
    const point = this.registry.point(pointId);
    const path = point && this.registry.pathOf(point.asset);
    if (!point || !path) return undefined;
    const plan: PointPlan = {
      path,
      metric: point.metric,
      subject: Subjects.normSamples(
        path.site ?? this.site,
        path.hall ?? '_',
        path.row ?? '_',
        path.rack ?? '_',
      ),
      canonical: canonicalUnitOf(point.metric) ?? '',
      scale: point.scale ?? 1,
      registryUnit: point.unit ?? '',
      deadband: point.deadband,
    };
    this.plans.set(pointId, plan);
    return plan;
  }

  normalize(s: busway.v1.ISample): Normalized {
    if (!s.pointId) return { rejected: { code: 'contract-violation', message: 'sample without a point id' } };
    const plan = this.planOf(s.pointId);
    if (!plan) return this.unregistered(s);
    const numeric = s.doubleValue != null || s.intValue != null;
    const sourceUnit = s.unit || plan.registryUnit;
    if (numeric && (plan.canonical !== '' || plan.scale !== 1)) {
      let c = plan.conv;
      if (plan.unit !== sourceUnit || c === undefined) {
        c = plan.canonical === '' ? { scale: 1, offset: 0 } : conversionFor(sourceUnit, plan, s.pointId);
        plan.unit = sourceUnit;
        plan.conv = c;
      }
      if (c instanceof UnitMismatch) return { rejected: reasonOf(c) };
      const raw = s.doubleValue ?? Number(s.intValue?.toString());
      s.doubleValue = raw * plan.scale * c.scale + c.offset;
      s.intValue = undefined;
      s.unit = plan.canonical || (sourceUnit ? (toUcum(sourceUnit) ?? sourceUnit) : '');
    } else {
      s.unit = sourceUnit ? (toUcum(sourceUnit) ?? sourceUnit) : ''; // states and text keep their type
    }
    s.path = plan.path;
    s.metric = plan.metric;
    s.unregistered = false;
    applyTimeRules(s, this.rules);
    return { ok: s, subject: plan.subject, deadband: plan.deadband };
  }

  private unregistered(s: busway.v1.ISample): Normalized {
    const path = unregisteredPath(this.site, s.source?.sourceId || (s.pointId ?? ''));
    s.metric = metricTokens(sourceMetricName(s));
    s.path = path;
    s.unregistered = true;
    s.unit = s.unit ? (toUcum(s.unit) ?? s.unit) : '';
    applyTimeRules(s, this.rules);
    const subject = Subjects.normSamples(path.site ?? this.site, '_', '_', '_');
    return { ok: s, subject };
  }
}

/** One sample, not edited (a copy is normalized): for tests and one-off callers; batches use SampleNormalizer. */
export function normalizeSample(
  raw: busway.v1.ISample,
  registry: Registry,
  site: string,
  rules: TimeRules,
): Normalized {
  return new SampleNormalizer(registry, site, rules).normalize({ ...raw, flags: [...(raw.flags ?? [])] });
}

/** Fills a job event's racks from its nodes, through the registry. */
export function enrichJob(e: busway.v1.IEvent, registry: Registry): busway.v1.IEvent {
  if (!e.job) return e;
  const racks = new Map<string, busway.v1.IUnsPath>();
  for (const node of e.job.nodes ?? []) {
    // Kubernetes may name a node by its FQDN (spec.nodeName) where the registry has the short host name
    const rack = registry.rackOf(node) ?? registry.rackOf(node.split('.', 1)[0] ?? node);
    const path = rack ? registry.pathOf(rack) : undefined;
    if (rack && path) racks.set(rack, path);
  }
  return { ...e, job: { ...e.job, racks: [...racks.values()] } };
}
