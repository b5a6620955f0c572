import { type busway, metricTokens, Subjects, unregisteredPath } from '@busway/proto';
import { CompactRegistry, type SiteRegistry } from '@busway/registry';
import { reasonOf, UnitMismatch, type DeadLetterReason } from '@busway/runtime';
import { conversionFor, Plans } from './plans.js';
import { applyTimeRules, type TimeRules } from './time-rules.js';
import { toUcum } from './units.js';

export type Normalized =
  { ok: busway.v1.ISample; subject: string; deadband?: number } | { rejected: DeadLetterReason };

/** The metric name at the source: the part of the point id after the source id. */
function sourceMetricName(s: busway.v1.ISample): string {
  const id = s.pointId ?? '';
  const sourceId = s.source?.sourceId ?? '';
  const i = sourceId ? id.indexOf(`:${sourceId}:`) : -1;
  return i >= 0 ? id.slice(i + sourceId.length + 2) : id.slice(id.lastIndexOf(':') + 1);
}

/**
 * Turns raw samples into the shape every consumer trusts: UNS path and taxonomy metric from the registry (or
 * a derived path, flagged unregistered), the value in the canonical unit, time on UTC with its quality.
 * It takes ownership of each sample it is given and edits it in place (no copy per sample); a rejected
 * sample is left as it came, for the dead letter. What the registry says is worked out once per asset and
 * per point kind (`Plans`), never per point.
 */
export class SampleNormalizer {
  private source: SiteRegistry;
  private current: Plans;

  constructor(
    registry: SiteRegistry,
    readonly site: string,
    readonly rules: TimeRules,
  ) {
    this.source = registry;
    this.current = new Plans(CompactRegistry.of(registry), site);
  }

  /** Switches to a newer registry: plans are worked out again, so a re-mapped point moves at once. */
  use(registry: SiteRegistry): void {
    if (registry === this.source) return;
    this.source = registry;
    this.current = new Plans(CompactRegistry.of(registry), this.site);
  }

  get plans(): Plans {
    return this.current;
  }

  normalize(s: busway.v1.ISample): Normalized {
    if (!s.pointId) return { rejected: { code: 'contract-violation', message: 'sample without a point id' } };
    const plans = this.current;
    const row = plans.registry.pointRow(s.pointId);
    const asset = row < 0 ? -1 : plans.registry.assetOfRow(row);
    const subject = plans.subject(asset);
    if (!subject) return this.unregistered(s);
    const kind = plans.kind(plans.registry.kindOfRow(row));
    const numeric = s.doubleValue != null || s.intValue != null;
    const unit = plans.unitPlan(kind, s.unit || kind.registryUnit);
    if (numeric && kind.converts) {
      const c = unit.conv;
      if (c === null) {
        const mismatch = conversionFor(unit.text, kind, s.pointId);
        return { rejected: reasonOf(mismatch instanceof UnitMismatch ? mismatch : new UnitMismatch('unit')) };
      }
      const raw = s.doubleValue ?? Number(s.intValue?.toString());
      s.doubleValue = raw * kind.scale * c.scale + c.offset;
      s.intValue = undefined;
      s.unit = unit.converted;
    } else {
      s.unit = unit.plain; // states and text keep their type
    }
    s.path = plans.path(asset);
    s.metric = kind.metric;
    s.unregistered = false;
    applyTimeRules(s, this.rules);
    return { ok: s, subject: subject.subject, deadband: kind.deadband };
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
  registry: SiteRegistry,
  site: string,
  rules: TimeRules,
): Normalized {
  return new SampleNormalizer(registry, site, rules).normalize({ ...raw, flags: [...(raw.flags ?? [])] });
}

/** Fills a job event's racks from its nodes, through the registry. */
export function enrichJob(e: busway.v1.IEvent, registry: SiteRegistry): busway.v1.IEvent {
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
