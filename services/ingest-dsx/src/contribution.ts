import { ownValue } from '@busway/runtime';
import { token } from '@busway/proto';
import type { Contribution } from '@busway/registry';
import { metricOf, type Metadata } from './metadata.js';

/** Where the bridge finds the hall and the row in a vendor tag path such as `nvidia/titan/pod1C/rowE/rack02/…`. */
export interface TagLayout {
  /** Index of the hall segment. @default 2 */
  hallSegment: number;
  /** A segment matching this is the row. @default ^row */
  rowPattern: RegExp;
}

/** objectType → asset class (the UNS class token). */
const CLASSES: Record<string, string> = {
  PowerMeter: 'meter',
  CDU: 'cdu',
  Rack: 'rack',
  Sensor: 'sensor',
  Valve: 'valve',
  Shunt: 'shunt',
  System: 'system',
};

/** The asset a point belongs to: its object, its rack location, or a part named after the asset it is associated with. */
function assetIdOf(m: Metadata): string | undefined {
  if (m.objectType === 'Rack' && m.rackLocationId) return m.rackLocationId;
  if (m.objectId) return m.objectId;
  if (m.associateId) return `${m.associateId}-${m.objectType.toLowerCase()}`;
  return undefined;
}

const safeId = (id: string) => id.replace(/[^A-Za-z0-9_-]+/g, '-');

/**
 * The registry entries that BMS metadata describes: one asset per object (class from objectType, hall and row from
 * the tag path, rack from `rackLocationId` or from the one rack it serves), the power chain from a meter's
 * `servesId` (busway → taps → racks), cooling from a CDU's `servesId`, containment from `associateId`, and one point
 * per tag path with its taxonomy metric and `engUnit`. Two points that would share an asset and a metric get the
 * tag-path segments that tell them apart appended, so every point keeps a subject of its own.
 */
export function contributionOf(
  metadata: ReadonlyMap<string, { pointId: string; tagPath: string; meta: Metadata }>,
  layout: TagLayout,
): Contribution {
  const assets = new Map<string, Contribution['assets'][number]>();
  const racks = new Set<string>();
  const served = new Map<string, { by: string; type: string }[]>();
  for (const { meta } of metadata.values()) {
    if (meta.objectType === 'Rack' && meta.rackLocationId) racks.add(safeId(meta.rackLocationId));
    for (const s of meta.servesId ?? []) {
      const list = served.get(safeId(s)) ?? [];
      list.push({ by: safeId(assetIdOf(meta) ?? ''), type: meta.objectType });
      served.set(safeId(s), list);
    }
  }
  // an id a CDU cools or a valve belongs to is a rack, even without Rack metadata of its own
  for (const { meta } of metadata.values()) {
    if (meta.objectType === 'CDU') for (const s of meta.servesId ?? []) racks.add(safeId(s));
    if (meta.objectType === 'Valve' && meta.associateId) racks.add(safeId(meta.associateId));
  }

  for (const { tagPath, meta } of metadata.values()) {
    const raw = assetIdOf(meta);
    if (!raw) continue;
    const id = safeId(raw);
    const segments = tagPath.split('/');
    const existing = assets.get(id);
    const cls = racks.has(id) ? 'rack' : (ownValue(CLASSES, meta.objectType) ?? token(meta.objectType));
    const servesIds = (meta.servesId ?? []).map(safeId);
    const isCooler = meta.objectType === 'CDU';
    assets.set(id, {
      id,
      class: cls,
      hall: existing?.hall ?? token(segments[layout.hallSegment] ?? '_'),
      row: existing?.row ?? token(segments.find((s) => layout.rowPattern.test(s)) ?? '_'),
      rack: '_',
      name: meta.objectName ?? existing?.name,
      feeds: isCooler ? (existing?.feeds ?? []) : [...new Set([...(existing?.feeds ?? []), ...servesIds])],
      cools: isCooler ? [...new Set([...(existing?.cools ?? []), ...servesIds])] : (existing?.cools ?? []),
      parent: meta.associateId ? safeId(meta.associateId) : existing?.parent,
    });
  }
  // ids referred to but never described get a placeholder, so the topology stays whole
  for (const [id, refs] of served) {
    if (assets.has(id)) continue;
    const hall = assets.get(refs[0]?.by ?? '')?.hall ?? '_';
    assets.set(id, {
      id,
      class: racks.has(id) ? 'rack' : 'meter',
      hall,
      row: '_',
      rack: '_',
      feeds: [],
      cools: [],
    });
  }
  for (const a of assets.values()) {
    if (a.parent && !assets.has(a.parent)) a.parent = undefined;
    a.feeds = a.feeds.filter((f) => assets.has(f));
    a.cools = a.cools.filter((c) => assets.has(c));
  }
  // racks: their own id; a meter or part: the one rack it serves or belongs to
  for (const a of assets.values()) {
    if (a.class === 'rack') a.rack = a.id;
  }
  for (const a of assets.values()) {
    if (a.class === 'rack') continue;
    const inRack = [a.parent, ...a.feeds]
      .map((x) => (x ? assets.get(x) : undefined))
      .filter((x) => x?.class === 'rack');
    if (inRack.length === 1 && inRack[0]) a.rack = inRack[0].id;
    else if (a.parent && assets.get(a.parent)?.rack !== '_') a.rack = assets.get(a.parent)?.rack ?? '_';
  }

  const points: Contribution['points'] = [];
  const byAssetMetric = new Map<
    string,
    { pointId: string; tagPath: string; asset: string; metric: string; unit?: string }[]
  >();
  for (const { pointId, tagPath, meta } of metadata.values()) {
    const raw = assetIdOf(meta);
    const metric = metricOf(meta);
    if (!raw || !metric) continue;
    const asset = safeId(raw);
    const key = `${asset}\u0000${metric}`;
    const list = byAssetMetric.get(key) ?? [];
    list.push({ pointId, tagPath, asset, metric, unit: meta.engUnit });
    byAssetMetric.set(key, list);
  }
  for (const group of byAssetMetric.values()) {
    const differing = distinctSegments(group.map((g) => g.tagPath));
    group.forEach((g, i) => {
      const suffix = group.length > 1 ? `.${token(differing[i] ?? String(i))}` : '';
      points.push({
        pointId: g.pointId,
        asset: g.asset,
        metric: `${g.metric}${suffix}`,
        ...(g.unit ? { unit: g.unit } : {}),
      });
    });
  }
  return { assets: [...assets.values()], points };
}

/** For each path, its segments that are not the same in every path of the group, joined by '-'. */
function distinctSegments(paths: string[]): string[] {
  const split = paths.map((p) => p.split('/'));
  const width = Math.max(...split.map((s) => s.length));
  const varying: number[] = [];
  for (let i = 0; i < width; i++) if (new Set(split.map((s) => s[i])).size > 1) varying.push(i);
  return split.map((s) =>
    varying
      .map((i) => s[i] ?? '')
      .filter(Boolean)
      .join('-'),
  );
}
