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
export class Registry extends AssetTopology implements SiteRegistry {
  private readonly points = new Map<string, Point>();

  constructor(
    readonly model: SiteModel,
    readonly version: number,
  ) {
    const share = stringSharer(); // for construction only: not kept with the registry
    super(model.site, model.assets, share);
    for (const p of model.points) {
      p.asset = share(p.asset);
      p.metric = share(p.metric);
      if (p.unit !== undefined) p.unit = share(p.unit);
      this.points.set(p.pointId, p);
    }
  }

  point(pointId: string): Point | undefined {
    return this.points.get(pointId);
  }
}
