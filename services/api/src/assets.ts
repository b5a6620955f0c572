import { unsSubject } from '@busway/proto';
import type { Asset, Registry } from '@busway/registry';
import type { Query } from './query.js';
import { boolParam, onlyParams, stringParam } from './query.js';

interface AssetNode {
  id: string;
  class: string;
  name?: string;
  feeds?: string[];
  cools?: string[];
  parent?: string;
  points?: { metric: string; path: string; pointId: string }[];
}
export interface AssetTree {
  site: string;
  version: number;
  halls: { id: string; rows: { id: string; racks: { id: string; assets: AssetNode[] }[] }[] }[];
}

export interface AssetFilter {
  hall?: string;
  row?: string;
  rack?: string;
  class?: string;
  points: boolean;
}

/** Reads `GET /v1/assets` parameters: optional hall, row, rack and class filters, and whether to list points. */
export function parseAssetQuery(query: Query): AssetFilter {
  onlyParams(query, ['hall', 'row', 'rack', 'class', 'points']);
  return {
    hall: stringParam(query, 'hall'),
    row: stringParam(query, 'row'),
    rack: stringParam(query, 'rack'),
    class: stringParam(query, 'class'),
    points: boolParam(query, 'points') ?? false,
  };
}

/** The site model as a tree: site → halls → rows → racks (or areas) → assets, optionally with their points. */
export function assetTree(registry: Registry, f: AssetFilter): AssetTree {
  const pointsByAsset = new Map<string, { metric: string; path: string; pointId: string }[]>();
  if (f.points)
    for (const p of registry.model.points) {
      const at = registry.pathOf(p.asset);
      if (!at) continue;
      const list = pointsByAsset.get(p.asset) ?? [];
      list.push({ metric: p.metric, path: unsSubject(at, p.metric), pointId: p.pointId }); // as the normalizer maps it
      pointsByAsset.set(p.asset, list);
    }
  const keep = (a: Asset) =>
    (!f.hall || a.hall === f.hall) &&
    (!f.row || a.row === f.row) &&
    (!f.rack || a.rack === f.rack) &&
    (!f.class || a.class === f.class);
  const halls = new Map<string, Map<string, Map<string, AssetNode[]>>>();
  for (const a of registry.model.assets) {
    if (!keep(a)) continue;
    const rows = halls.get(a.hall) ?? new Map<string, Map<string, AssetNode[]>>();
    halls.set(a.hall, rows);
    const racks = rows.get(a.row) ?? new Map<string, AssetNode[]>();
    rows.set(a.row, racks);
    const list = racks.get(a.rack) ?? [];
    racks.set(a.rack, list);
    list.push({
      id: a.id,
      class: a.class,
      ...(a.name ? { name: a.name } : {}),
      ...(a.feeds.length > 0 ? { feeds: a.feeds } : {}),
      ...(a.cools.length > 0 ? { cools: a.cools } : {}),
      ...(a.parent ? { parent: a.parent } : {}),
      ...(f.points ? { points: pointsByAsset.get(a.id) ?? [] } : {}),
    });
  }
  const sorted = <V>(m: Map<string, V>) => [...m.entries()].sort(([x], [y]) => x.localeCompare(y));
  return {
    site: registry.site,
    version: registry.version,
    halls: sorted(halls).map(([id, rows]) => ({
      id,
      rows: sorted(rows).map(([rowId, racks]) => ({
        id: rowId,
        racks: sorted(racks).map(([rackId, assets]) => ({ id: rackId, assets })),
      })),
    })),
  };
}
