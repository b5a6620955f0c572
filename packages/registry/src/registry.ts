import type { busway } from '@busway/proto';
import type { Asset, Point, SiteModel } from './site-model.js';

/** Indexed, read-only view of one site model: every lookup is a map access. */
export class Registry {
  private readonly assets = new Map<string, Asset>();
  private readonly points = new Map<string, Point>();
  private readonly fedBy = new Map<string, string[]>();
  private readonly cooledBy = new Map<string, string[]>();
  private readonly children = new Map<string, string[]>();

  constructor(
    readonly model: SiteModel,
    readonly version: number,
  ) {
    // JSON.parse gives every repeated value its own string: share one copy of each (100k points: megabytes)
    const shared = new Map<string, string>();
    const one = (v: string) => shared.get(v) ?? (shared.set(v, v), v);
    for (const a of model.assets) {
      a.class = one(a.class);
      a.hall = one(a.hall);
      a.row = one(a.row);
      a.rack = one(a.rack);
    }
    for (const p of model.points) {
      p.asset = one(p.asset);
      p.metric = one(p.metric);
      if (p.unit !== undefined) p.unit = one(p.unit);
    }
    for (const a of model.assets) {
      this.assets.set(a.id, a);
      for (const f of a.feeds) this.fedBy.set(f, [...(this.fedBy.get(f) ?? []), a.id]);
      for (const r of a.cools) this.cooledBy.set(r, [...(this.cooledBy.get(r) ?? []), a.id]);
      if (a.parent) this.children.set(a.parent, [...(this.children.get(a.parent) ?? []), a.id]);
    }
    for (const p of model.points) this.points.set(p.pointId, p);
  }

  get site(): string {
    return this.model.site;
  }

  point(pointId: string): Point | undefined {
    return this.points.get(pointId);
  }

  asset(id: string): Asset | undefined {
    return this.assets.get(id);
  }

  /** The UNS path of an asset. */
  pathOf(assetId: string): busway.v1.IUnsPath | undefined {
    const a = this.assets.get(assetId);
    if (!a) return undefined;
    return { site: this.site, hall: a.hall, row: a.row, rack: a.rack, assetClass: a.class, asset: a.id };
  }

  /**
   * The power chain above an asset, nearest first: rack -> tap -> busway. With redundant feeds (A and B) every
   * path is walked, breadth first: [tap A, tap B, busway A, busway B].
   */
  feedersOf(assetId: string): Asset[] {
    const chain: Asset[] = [];
    const seen = new Set<string>([assetId]);
    let level = [assetId];
    while (level.length > 0) {
      const next: string[] = [];
      for (const id of level)
        for (const f of this.fedBy.get(id) ?? []) {
          if (seen.has(f)) continue;
          seen.add(f);
          const a = this.assets.get(f);
          if (a) chain.push(a);
          next.push(f);
        }
      level = next;
    }
    return chain;
  }

  /** Assets directly fed by this one. */
  feedsOf(assetId: string): Asset[] {
    return (this.assets.get(assetId)?.feeds ?? []).flatMap((id) => this.assets.get(id) ?? []);
  }

  /** Cooling units (CDU, CRAH) serving a rack. */
  coolersOf(rackId: string): Asset[] {
    return (this.cooledBy.get(rackId) ?? []).flatMap((id) => this.assets.get(id) ?? []);
  }

  /** Assets contained in this one (a node's GPUs, a rack's sensors). */
  childrenOf(assetId: string): Asset[] {
    return (this.children.get(assetId) ?? []).flatMap((id) => this.assets.get(id) ?? []);
  }

  /** The rack an asset stands in (its own id for a rack). */
  rackOf(assetId: string): string | undefined {
    const a = this.assets.get(assetId);
    if (!a) return undefined;
    return a.class === 'rack' ? a.id : a.rack !== '_' ? a.rack : undefined;
  }

  assetsOfClass(cls: string): Asset[] {
    return this.model.assets.filter((a) => a.class === cls);
  }
}
