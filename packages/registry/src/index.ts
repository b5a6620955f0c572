// The asset registry: site model (sites, halls, rows, racks, assets, points, power and cooling topology) in Redis.
export { AssetSchema, PointSchema, SiteModelSchema, parseSiteModel, readSiteModel } from './site-model.js';
export type { Asset, Point, SiteModel } from './site-model.js';
export { Registry } from './registry.js';
export type { SiteRegistry } from './registry.js';
export { CompactRegistry } from './compact-registry.js';
export type { PointKind } from './compact-registry.js';
export { RegistryKeys, publishSiteModel, fetchRegistry, mergeSiteModel, RegistryClient } from './store.js';
export type { Contribution, RegistryBuilder } from './store.js';
