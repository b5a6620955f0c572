import { PointIdTable } from './point-ids.js';
import type { SiteRegistry } from './registry.js';
import type { Asset, Point, SiteModel } from './site-model.js';
import { AssetTopology, stringSharer } from './topology.js';

/** What a point says besides its id and asset; points that say the same share one. */
export type PointKind = Readonly<Omit<Point, 'pointId' | 'asset'>>;

/**
 * The same view of a site model as `Registry`, for processes that hold a large one (the normalizer with 100k
 * points): no object and no string per point. A point is a row: its id's UTF-8 bytes in one buffer (found by
 * hash, `PointIdTable`), its asset's position and its kind's position in two typed arrays; kinds (metric,
 * unit, scale, deadband) are shared. Hot paths ask by row
 * (`pointRow`, `assetOfRow`, `kindOfRow`); `point()` and `model` build objects on demand.
 */
export class CompactRegistry extends AssetTopology implements SiteRegistry {
  private readonly ids: PointIdTable;
  private readonly assetOf: Int32Array;
  private readonly kindOf: Int32Array;
  private readonly kinds: PointKind[] = [];
  /** Asset ids of rows whose asset is not in the model (only an unvalidated model has them). */
  private readonly strayAssets = new Map<number, string>();
  private built: WeakRef<SiteModel> | undefined;

  constructor(
    model: SiteModel,
    readonly version: number,
  ) {
    const share = stringSharer(); // for construction only: not kept with the registry
    super(model.site, model.assets, share);
    const n = model.points.length;
    this.assetOf = new Int32Array(n);
    this.kindOf = new Int32Array(n);
    const kindIndex = new Map<string, number>();
    for (let row = 0; row < n; row++) {
      const p = model.points[row] as Point;
      const key = JSON.stringify([p.metric, p.unit, p.scale, p.deadband]);
      let k = kindIndex.get(key);
      if (k === undefined) {
        k = this.kinds.length;
        kindIndex.set(key, k);
        this.kinds.push(Object.freeze(kindFields(p, share)));
      }
      const a = this.indexOf.get(p.asset) ?? -1;
      if (a < 0) this.strayAssets.set(row, p.asset);
      this.assetOf[row] = a;
      this.kindOf[row] = k;
    }
    this.ids = new PointIdTable(model.points.map((p) => p.pointId));
  }

  /** A plain or compact registry as a compact one; a plain one is converted once and remembered. */
  static of(registry: SiteRegistry): CompactRegistry {
    if (registry instanceof CompactRegistry) return registry;
    let compact = converted.get(registry);
    if (!compact) {
      compact = new CompactRegistry(registry.model, registry.version);
      converted.set(registry, compact);
    }
    return compact;
  }

  /** The site model, built from the rows on demand (kept while someone holds it): not for hot paths. */
  get model(): SiteModel {
    const cached = this.built?.deref();
    if (cached) return cached;
    const points: Point[] = Array.from({ length: this.pointCount }, (_, row) => this.pointAt(row));
    const model: SiteModel = { site: this.site, assets: this.assets as Asset[], points };
    this.built = new WeakRef(model);
    return model;
  }

  /** Rows (model points, repeated ids included). */
  get pointCount(): number {
    return this.ids.size;
  }

  get assetCount(): number {
    return this.assets.length;
  }

  get kindCount(): number {
    return this.kinds.length;
  }

  /** The row of a point id (the last one when an id repeats), or -1. */
  pointRow(pointId: string): number {
    return this.ids.rowOf(pointId);
  }

  /** The row of a point id given as its UTF-8 bytes `buf[start, end)` (off the wire), or -1. */
  pointRowOfBytes(buf: Uint8Array, start: number, end: number): number {
    return this.ids.rowOfBytes(buf, start, end);
  }

  /** Whether row `row` is the point whose id is the UTF-8 bytes `buf[start, end)`: checks a guess cheaply. */
  rowHasId(row: number, buf: Uint8Array, start: number, end: number): boolean {
    return this.ids.matches(row, buf, start, end);
  }

  /** Whether every point id is ASCII (a fast path can then skip checking the bytes it matched). */
  get asciiPointIds(): boolean {
    return this.ids.ascii;
  }

  pointIdOfRow(row: number): string {
    return this.ids.idOf(row);
  }

  /** Position of the row's asset (see `assetAt`), or -1 when the model does not have that asset. */
  assetOfRow(row: number): number {
    return this.assetOf[row] ?? -1;
  }

  kindOfRow(row: number): number {
    return this.kindOf[row] ?? -1;
  }

  assetAt(index: number): Asset | undefined {
    return this.assets[index];
  }

  kind(index: number): PointKind | undefined {
    return this.kinds[index];
  }

  point(pointId: string): Point | undefined {
    const row = this.ids.rowOf(pointId);
    return row < 0 ? undefined : this.pointAt(row);
  }

  private pointAt(row: number): Point {
    const a = this.assetOf[row] as number;
    const asset = a >= 0 ? (this.assets[a] as Asset).id : (this.strayAssets.get(row) as string);
    return { pointId: this.ids.idOf(row), asset, ...this.kinds[this.kindOf[row] as number] } as Point;
  }
}

const converted = new WeakMap<SiteRegistry, CompactRegistry>();

/** The kind part of a point, with exactly the keys the point has (as the schema's parse leaves them). */
function kindFields(p: Point, one: (v: string) => string): Omit<Point, 'pointId' | 'asset'> {
  const k: Omit<Point, 'pointId' | 'asset'> = { metric: one(p.metric) };
  if (p.unit !== undefined) k.unit = one(p.unit);
  if (p.scale !== undefined) k.scale = p.scale;
  if (p.deadband !== undefined) k.deadband = p.deadband;
  return k;
}
