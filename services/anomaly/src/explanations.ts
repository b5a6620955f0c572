import { busway, kindOf, msFromTimeNs } from '@busway/proto';
import type { Registry } from '@busway/registry';
import { Explains } from './detector.js';

/** A change that something outside the series explains: a job start or end, or a correlated incident. */
export interface Explanation {
  id: string;
  reason: string;
  startMs: number;
  /** End for slow quantities (temperatures that answer through thermal mass). */
  endMs: number;
  /** End for fast quantities (power, current, utilization, inlet air): they answer a job within seconds. */
  fastEndMs: number;
  /** Explains.Rise and/or Explains.Fall. */
  mask: number;
  racks: string[];
  assets: string[];
}

/** A CDU holds its supply temperature whatever the load: a job never explains a change there. */
const NEVER_EXPLAINED = new Set(['temperature.coolant.supply']);
/** Temperatures that follow the load within seconds, like power: short windows, so a fault soon after is still seen. */
const FAST_TEMPERATURES = new Set(['temperature.air.inlet']);

export const ResponseSpeed = { None: 0, Fast: 1, Slow: 2 } as const;

/** How fast a quantity answers a job: power, current and utilization at once, temperatures through thermal mass. */
export function responseSpeed(metric: string): number {
  if (NEVER_EXPLAINED.has(metric)) return ResponseSpeed.None;
  const kind = kindOf(metric);
  if (kind === 'power' || kind === 'utilization' || metric.startsWith('current.l')) return ResponseSpeed.Fast;
  if (kind === 'temperature') return FAST_TEMPERATURES.has(metric) ? ResponseSpeed.Fast : ResponseSpeed.Slow;
  return ResponseSpeed.None;
}

/**
 * Open explanation windows, indexed by rack and by asset, in event time. A job start explains rises, a job
 * end falls, on the job's racks, every asset in them, the power chain feeding them and the coolers serving
 * them (from the registry): for `fastWindowMs` on quantities that answer at once (power, utilization, inlet
 * air), for `windowMs` on temperatures behind thermal mass. A job-power-thermal incident explains rises on
 * every asset of its chain from its start to `windowMs` after its end. Bounded: at most `max` windows, the
 * oldest dropped first.
 */
export class Explanations {
  private readonly windows: Explanation[] = [];
  private readonly byKey = new Map<string, Explanation[]>();
  private rackAssets?: { version: number; map: Map<string, string[]> };

  constructor(
    private readonly windowMs: number,
    private readonly fastWindowMs: number,
    private readonly max: number,
    private readonly registry: () => Registry | undefined,
  ) {}

  get size(): number {
    return this.windows.length;
  }

  onEvent(e: busway.v1.IEvent): void {
    const job = e.job;
    if (!job) return;
    const started = job.phase === busway.v1.JobPhase.JOB_PHASE_STARTED;
    const ended =
      job.phase === busway.v1.JobPhase.JOB_PHASE_ENDED ||
      job.phase === busway.v1.JobPhase.JOB_PHASE_FAILED ||
      job.phase === busway.v1.JobPhase.JOB_PHASE_CANCELLED;
    if (!started && !ended) return;
    const reg = this.registry();
    const racks = new Set<string>();
    for (const p of job.racks ?? []) if (p.rack) racks.add(p.rack);
    if (racks.size === 0 && reg)
      for (const node of job.nodes ?? []) {
        const r = reg.rackOf(node);
        if (r) racks.add(r);
      }
    if (racks.size === 0) return;
    const assets = new Set<string>();
    if (reg)
      for (const r of racks) {
        for (const c of reg.coolersOf(r)) assets.add(c.id);
        for (const a of this.assetsIn(reg, r)) for (const f of reg.feedersOf(a)) assets.add(f.id);
      }
    const t = msFromTimeNs(e.eventTimeNs);
    this.add({
      id: `${job.jobId}:${started ? 'started' : 'ended'}`,
      reason: `job ${job.jobId} ${started ? 'started' : 'ended'} on ${[...racks].join(', ')}`,
      startMs: t,
      endMs: t + this.windowMs,
      fastEndMs: t + this.fastWindowMs,
      mask: started ? Explains.Rise : Explains.Fall,
      racks: [...racks],
      assets: [...assets],
    });
  }

  onIncident(inc: busway.v1.IIncident): void {
    if (inc.kind !== 'job-power-thermal') return;
    const assets = new Set<string>();
    for (const link of inc.chain ?? []) if (link.path?.asset) assets.add(link.path.asset);
    if (assets.size === 0) return;
    this.add({
      id: inc.id ?? '',
      reason: `incident ${inc.id}: ${inc.summary ?? ''}`,
      startMs: msFromTimeNs(inc.startNs),
      endMs: msFromTimeNs(inc.endNs) + this.windowMs,
      fastEndMs: msFromTimeNs(inc.endNs) + this.windowMs,
      mask: Explains.Rise,
      racks: [],
      assets: [...assets],
    });
  }

  /** Which changes of this point at `tMs` are explained (Explains bits). */
  explains(path: busway.v1.IUnsPath | null | undefined, metric: string, tMs: number): number {
    if (this.windows.length === 0 || !path) return 0;
    const byRack = path.rack ? this.byKey.get(`r:${path.rack}`) : undefined;
    const byAsset = path.asset ? this.byKey.get(`a:${path.asset}`) : undefined;
    if (!byRack && !byAsset) return 0;
    const speed = responseSpeed(metric);
    if (speed === ResponseSpeed.None) return 0;
    let mask = 0;
    for (const list of [byRack, byAsset])
      if (list)
        for (const w of list)
          if (tMs >= w.startMs && tMs <= (speed === ResponseSpeed.Fast ? w.fastEndMs : w.endMs))
            mask |= w.mask;
    return mask;
  }

  /** The reason of the newest window explaining a change in `direction` at `tMs`. */
  reasonFor(
    path: busway.v1.IUnsPath | null | undefined,
    metric: string,
    tMs: number,
    direction: number,
  ): string {
    const bit = direction > 0 ? Explains.Rise : Explains.Fall;
    const fast = responseSpeed(metric) === ResponseSpeed.Fast;
    let best: Explanation | undefined;
    for (const key of [`r:${path?.rack}`, `a:${path?.asset}`])
      for (const w of this.byKey.get(key) ?? []) {
        const end = fast ? w.fastEndMs : w.endMs;
        if ((w.mask & bit) !== 0 && tMs >= w.startMs && tMs <= end && (!best || w.startMs > best.startMs))
          best = w;
      }
    return best ? `${best.reason} (${((tMs - best.startMs) / 1000).toFixed(1)} s before)` : '';
  }

  /** Drops windows that ended before `tMs`. */
  prune(tMs: number): void {
    let drop = 0;
    for (const w of this.windows) if (w.endMs < tMs) drop++;
    if (drop === 0) return;
    const keep = this.windows.filter((w) => w.endMs >= tMs);
    this.windows.length = 0;
    this.byKey.clear();
    for (const w of keep) this.add(w);
  }

  /** Open windows, for the checkpoint. */
  snapshot(): Explanation[] {
    return [...this.windows];
  }

  restore(windows: Explanation[]): void {
    for (const w of windows) this.add(w);
  }

  private add(w: Explanation): void {
    if (this.windows.some((x) => x.id === w.id)) return; // redelivered
    this.windows.push(w);
    for (const r of w.racks) this.index(`r:${r}`, w);
    for (const a of w.assets) this.index(`a:${a}`, w);
    while (this.windows.length > this.max) {
      const old = this.windows.shift() as Explanation;
      for (const [key, list] of this.byKey) {
        const i = list.indexOf(old);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.byKey.delete(key);
      }
    }
  }

  private index(key: string, w: Explanation): void {
    const list = this.byKey.get(key);
    if (list) list.push(w);
    else this.byKey.set(key, [w]);
  }

  private assetsIn(reg: Registry, rack: string): string[] {
    if (this.rackAssets?.version !== reg.version) {
      const map = new Map<string, string[]>();
      for (const a of reg.model.assets) {
        const list = map.get(a.rack);
        if (list) list.push(a.id);
        else map.set(a.rack, [a.id]);
      }
      this.rackAssets = { version: reg.version, map };
    }
    return this.rackAssets.map.get(rack) ?? [];
  }
}
