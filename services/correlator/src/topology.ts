import type { busway } from '@busway/proto';
import type { Asset, Registry } from '@busway/registry';
import type { Selector } from './rules.js';

/**
 * The registry seen by the rules: what stands in a rack, what feeds it, what cools it, what a cooler or a
 * sensor answers to, and the facility meters (roots of the power chain). Indexed once per registry version.
 */
export class Topology {
  private readonly inRack = new Map<string, Asset[]>();
  private readonly fedByAny = new Set<string>();
  private readonly meters = new Map<string, Asset[]>();
  private readonly loads = new Map<string, { ids: Set<string>; racks: string[] }>();

  constructor(readonly registry: Registry) {
    for (const a of registry.model.assets) {
      if (a.rack !== '_' && a.class !== 'rack')
        this.inRack.set(a.rack, [...(this.inRack.get(a.rack) ?? []), a]);
      for (const f of a.feeds) this.fedByAny.add(f);
    }
  }

  get version(): number {
    return this.registry.version;
  }

  asset(id: string): Asset | undefined {
    return this.registry.asset(id);
  }

  pathOf(id: string): busway.v1.IUnsPath | undefined {
    return this.registry.pathOf(id);
  }

  /** Assets of these classes that a selector reaches from a rack. */
  select(rack: string, selector: Selector, classes: readonly string[]): Asset[] {
    const keep = (a: Asset) => classes.includes(a.class);
    switch (selector) {
      case 'rack':
        return (this.inRack.get(rack) ?? []).filter(keep);
      case 'coolers':
        return this.registry.coolersOf(rack).filter(keep);
      case 'feeders': {
        const seen = new Map<string, Asset>();
        for (const from of [rack, ...(this.inRack.get(rack) ?? []).map((a) => a.id)])
          for (const f of this.registry.feedersOf(from)) if (keep(f)) seen.set(f.id, f);
        return [...seen.values()];
      }
    }
  }

  /** The racks whose load a thermal asset answers to: those a cooler cools, or the rack a sensor stands in. */
  racksServedBy(assetId: string): string[] {
    const a = this.registry.asset(assetId);
    if (!a) return [];
    if (a.cools.length > 0) return a.cools;
    const rack = this.registry.rackOf(assetId);
    return rack ? [rack] : [];
  }

  /** The load assets (e.g. PDUs) of the racks a thermal asset answers to, with the racks they stand in. */
  loadOf(assetId: string, loadClasses: readonly string[]): { ids: Set<string>; racks: string[] } {
    const key = `${assetId}|${loadClasses.join(',')}`;
    let load = this.loads.get(key);
    if (!load) {
      const assets = this.racksServedBy(assetId).flatMap((r) => this.select(r, 'rack', loadClasses));
      const racks = new Set(assets.map((a) => this.registry.rackOf(a.id) ?? a.rack));
      load = { ids: new Set(assets.map((a) => a.id)), racks: [...racks] };
      this.loads.set(key, load);
    }
    return load;
  }

  /** Facility meters: assets of these classes that nothing feeds (the roots of the power chain). */
  facilityMeters(classes: readonly string[]): Asset[] {
    const key = classes.join(',');
    let meters = this.meters.get(key);
    if (!meters) {
      meters = this.registry.model.assets.filter(
        (a) => classes.includes(a.class) && !this.fedByAny.has(a.id),
      );
      this.meters.set(key, meters);
    }
    return meters;
  }
}
