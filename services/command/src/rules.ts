import { Subjects, unsSubject } from '@busway/proto';
import type { SiteRegistry } from '@busway/registry';
import type { WriteRule } from './config.js';
import { CommandRefused, RefusalCode } from './errors.js';

/** A registry point with where it lives on the fabric. */
export interface ResolvedPoint {
  pointId: string;
  /** Its UNS subject, uns.v1.… */
  path: string;
  metric: string;
  /** The registry's unit for it, when the source does not say. */
  unit: string;
  /** The registry's scale (source value × scale before unit conversion). */
  scale: number;
  /** The NORM subject its normalized samples travel on (one per rack or area). */
  normSubject: string;
}

/** A write rule whose point and readback point the registry knows. */
export interface CompiledRule {
  rule: WriteRule;
  target: ResolvedPoint;
  readback: ResolvedPoint;
}

const isUns = (s: string) => s.startsWith('uns.v1.');

/**
 * The write rules resolved against one registry version: which points may be written, found by point id or UNS
 * subject. A rule the registry cannot resolve yet refuses its commands with the reason (never guesses).
 */
export class RuleBook {
  private readonly byPath = new Map<string, CompiledRule>();
  private readonly byPointId = new Map<string, CompiledRule>();
  private readonly unresolved = new Map<string, string>();

  constructor(rules: readonly WriteRule[], registry: SiteRegistry) {
    const wanted = new Set<string>();
    for (const r of rules) for (const ref of [r.path, r.readback]) if (ref && isUns(ref)) wanted.add(ref);
    const byUns = pointsBySubject(registry, wanted);
    const resolve = (ref: string): ResolvedPoint | string =>
      isUns(ref) ? (byUns.get(ref) ?? `the registry has no point at ${ref}`) : resolvePoint(registry, ref);
    for (const rule of rules) {
      const key = rule.point ?? rule.path ?? '';
      const target = resolve(key);
      const readback = resolve(rule.readback ?? key);
      if (typeof target === 'string' || typeof readback === 'string') {
        this.unresolved.set(key, typeof target === 'string' ? target : `readback: ${readback as string}`);
        continue;
      }
      if (rule.readback === undefined && target.pointId.startsWith('dsx-bms:')) {
        this.unresolved.set(key, `${target.pointId} is a dsx-bms point: its rule needs a readback point`);
        continue;
      }
      const compiled = { rule, target, readback };
      this.byPath.set(target.path, compiled);
      this.byPointId.set(target.pointId, compiled);
    }
  }

  get size(): number {
    return this.byPath.size;
  }

  /** Rules the registry could not resolve, with why. */
  get problems(): ReadonlyMap<string, string> {
    return this.unresolved;
  }

  /** The rule for a command's target; refuses when there is none (points are read-only by default). */
  find(target: { path: string; pointId: string }): CompiledRule {
    const byId = target.pointId ? this.byPointId.get(target.pointId) : undefined;
    const found = byId ?? this.byPath.get(target.path);
    if (found) {
      if (target.path && found.target.path !== target.path)
        throw new CommandRefused(
          RefusalCode.Malformed,
          `point ${target.pointId} is at ${found.target.path}, not at ${target.path}`,
        );
      return found;
    }
    const problem = this.unresolved.get(target.pointId) ?? this.unresolved.get(target.path);
    if (problem) throw new CommandRefused(RefusalCode.UnknownPoint, problem);
    throw new CommandRefused(
      RefusalCode.NotWritable,
      `${target.pointId || target.path} is not writable: no write rule names it (points are read-only unless configured)`,
    );
  }

  /** Every readback point, once each. */
  readbacks(): ResolvedPoint[] {
    const out = new Map<string, ResolvedPoint>();
    for (const c of this.byPath.values()) out.set(c.readback.pointId, c.readback);
    return [...out.values()];
  }
}

function resolved(
  registry: SiteRegistry,
  pointId: string,
  asset: string,
  metric: string,
): ResolvedPoint | string {
  const path = registry.pathOf(asset);
  if (!path) return `the registry has no place for asset ${asset} of ${pointId}`;
  const p = registry.point(pointId);
  return {
    pointId,
    path: unsSubject(path, metric),
    metric,
    unit: p?.unit ?? '',
    scale: p?.scale ?? 1,
    normSubject: Subjects.normSamples(
      path.site ?? registry.site,
      path.hall ?? '_',
      path.row ?? '_',
      path.rack ?? '_',
    ),
  };
}

function resolvePoint(registry: SiteRegistry, pointId: string): ResolvedPoint | string {
  const p = registry.point(pointId);
  if (!p) return `the registry does not know point ${pointId} (yet)`;
  return resolved(registry, pointId, p.asset, p.metric);
}

/** The points at the wanted UNS subjects: one pass over the registry, only when a rule names a subject. */
function pointsBySubject(registry: SiteRegistry, wanted: ReadonlySet<string>): Map<string, ResolvedPoint> {
  const out = new Map<string, ResolvedPoint>();
  if (wanted.size === 0) return out;
  for (const p of registry.model.points) {
    const r = resolved(registry, p.pointId, p.asset, p.metric);
    if (typeof r !== 'string' && wanted.has(r.path) && !out.has(r.path)) out.set(r.path, r);
  }
  return out;
}
