import type { busway } from '@busway/proto';
import type { Asset, Point, SiteModel } from './site-model.js';
import { AssetTopology, stringSharer } from './topology.js';

/** What every registry view answers: the site model and lookups by asset and point. */
export interface SiteRegistry {
  readonly version: number;
  readonly site: string;
  readonly model: SiteModel;
  point(pointId: string): Point | undefined;
  asset(id: string): Asset | undefined;
  pathOf(assetId: string): busway.v1.IUnsPath | undefined;
  feedersOf(assetId: string): Asset[];
  feedsOf(assetId: string): Asset[];
  coolersOf(rackId: string): Asset[];
  childrenOf(assetId: string): Asset[];
  rackOf(assetId: string): string | undefined;
  assetsOfClass(cls: string): Asset[];
}

/** Indexed, read-only view of one site model: every lookup is a map access. */
export class Registry implements SiteRegistry {
  private readonly topology: AssetTopology;
  private readonly points = new Map<string, Point>();

  constructor(
    readonly model: SiteModel,
    readonly version: number,
  ) {
    // JSON.parse gives every repeated value its own string: share one copy of each (100k points: megabytes)
    const one = stringSharer();
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
    this.topology = new AssetTopology(model.site, model.assets);
    for (const p of model.points) this.points.set(p.pointId, p);
  }

  get site(): string {
    return this.model.site;
  }

  point(pointId: string): Point | undefined {
    return this.points.get(pointId);
  }

  asset(id: string): Asset | undefined {
    return this.topology.asset(id);
  }

  /** The UNS path of an asset. */
  pathOf(assetId: string): busway.v1.IUnsPath | undefined {
    return this.topology.pathOf(assetId);
  }

  /**
   * The power chain above an asset, nearest first: rack -> tap -> busway. With redundant feeds (A and B) every
   * path is walked, breadth first: [tap A, tap B, busway A, busway B].
   */
  feedersOf(assetId: string): Asset[] {
    return this.topology.feedersOf(assetId);
  }

  /** Assets directly fed by this one. */
  feedsOf(assetId: string): Asset[] {
    return this.topology.feedsOf(assetId);
  }

  /** Cooling units (CDU, CRAH) serving a rack. */
  coolersOf(rackId: string): Asset[] {
    return this.topology.coolersOf(rackId);
  }

  /** Assets contained in this one (a node's GPUs, a rack's sensors). */
  childrenOf(assetId: string): Asset[] {
    return this.topology.childrenOf(assetId);
  }

  /** The rack an asset stands in (its own id for a rack). */
  rackOf(assetId: string): string | undefined {
    return this.topology.rackOf(assetId);
  }

  assetsOfClass(cls: string): Asset[] {
    return this.topology.assetsOfClass(cls);
  }
}
