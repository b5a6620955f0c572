import type { busway } from '@busway/proto';
import type { Asset } from './site-model.js';

/** Returns one shared copy of each string it is given (JSON.parse gives every repeated value its own). */
export function stringSharer(): (v: string) => string {
  const shared = new Map<string, string>();
  return (v) => shared.get(v) ?? (shared.set(v, v), v);
}

/**
 * The assets of a site model and their power, cooling and containment edges, indexed. `Registry` and
 * `CompactRegistry` extend it, so both answer every asset question with the same code.
 */
export abstract class AssetTopology {
  /** Asset id -> position in `assets` (the last one, when an id repeats in an unvalidated model). */
  protected readonly indexOf = new Map<string, number>();
  private readonly fedBy = new Map<string, string[]>();
  private readonly cooledBy = new Map<string, string[]>();
  private readonly children = new Map<string, string[]>();

  /** `share` keeps one copy of each repeated string; the subclass goes on with it for its points. */
  protected constructor(
    readonly site: string,
    protected readonly assets: readonly Asset[],
    share: (v: string) => string,
  ) {
    // JSON.parse gives every repeated value its own string: share one copy of each (100k points: megabytes)
    for (const a of assets) {
      a.class = share(a.class);
      a.hall = share(a.hall);
      a.row = share(a.row);
      a.rack = share(a.rack);
    }
    const push = (m: Map<string, string[]>, k: string, v: string) => {
      const list = m.get(k);
      if (list) list.push(v);
      else m.set(k, [v]);
    };
    for (const [i, a] of assets.entries()) {
      this.indexOf.set(a.id, i);
      for (const f of a.feeds) push(this.fedBy, f, a.id);
      for (const r of a.cools) push(this.cooledBy, r, a.id);
      if (a.parent) push(this.children, a.parent, a.id);
    }
  }

  asset(id: string): Asset | undefined {
    const i = this.indexOf.get(id);
    return i === undefined ? undefined : this.assets[i];
  }

  /** The UNS path of an asset. */
  pathOf(assetId: string): busway.v1.IUnsPath | undefined {
    const a = this.asset(assetId);
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
          const a = this.asset(f);
          if (a) chain.push(a);
          next.push(f);
        }
      level = next;
    }
    return chain;
  }

  /** Assets directly fed by this one. */
  feedsOf(assetId: string): Asset[] {
    return (this.asset(assetId)?.feeds ?? []).flatMap((id) => this.asset(id) ?? []);
  }

  /** Cooling units (CDU, CRAH) serving a rack. */
  coolersOf(rackId: string): Asset[] {
    return (this.cooledBy.get(rackId) ?? []).flatMap((id) => this.asset(id) ?? []);
  }

  /** Assets contained in this one (a node's GPUs, a rack's sensors). */
  childrenOf(assetId: string): Asset[] {
    return (this.children.get(assetId) ?? []).flatMap((id) => this.asset(id) ?? []);
  }

  /** The rack an asset stands in (its own id for a rack). */
  rackOf(assetId: string): string | undefined {
    const a = this.asset(assetId);
    if (!a) return undefined;
    return a.class === 'rack' ? a.id : a.rack !== '_' ? a.rack : undefined;
  }

  assetsOfClass(cls: string): Asset[] {
    return this.assets.filter((a) => a.class === cls);
  }
}
