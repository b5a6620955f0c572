import { gunzipSync, gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { CompactRegistry } from './compact-registry.js';
import { Registry, type SiteRegistry } from './registry.js';
import { parseSiteModel, type SiteModel } from './site-model.js';

/** Redis keys of the registry, version 1. */
export const RegistryKeys = {
  model: 'busway:registry:v1:model',
  version: 'busway:registry:v1:version',
  changed: 'busway:registry:v1:changed',
} as const;

/**
 * Stores a site model as the current registry (gzipped JSON: a 100k-point model is ~13 MB of JSON, and the
 * Redis client's parser keeps a buffer of about three times the largest reply it ever read for the life of
 * the process) and tells every client to reload. Returns the new version.
 */
export async function publishSiteModel(redis: Redis, model: SiteModel): Promise<number> {
  const version = await redis.incr(RegistryKeys.version);
  await redis.set(RegistryKeys.model, gzipSync(JSON.stringify({ version, model })));
  await redis.publish(RegistryKeys.changed, String(version));
  return version;
}

/** Builds the in-memory view of a site model: `Registry`, or `CompactRegistry` for a large model. */
export type RegistryBuilder<R extends SiteRegistry> = (model: SiteModel, version: number) => R;

const plain: RegistryBuilder<Registry> = (model, version) => new Registry(model, version);

/** Reads the current registry; an empty one (version 0) when none was published yet. */
export async function fetchRegistry(redis: Redis, site: string): Promise<Registry>;
export async function fetchRegistry<R extends SiteRegistry>(
  redis: Redis,
  site: string,
  build: RegistryBuilder<R>,
): Promise<R>;
export async function fetchRegistry(
  redis: Redis,
  site: string,
  build: RegistryBuilder<SiteRegistry> = plain,
): Promise<SiteRegistry> {
  const raw = await redis.getBuffer(RegistryKeys.model);
  if (!raw) return build({ site, assets: [], points: [] }, 0);
  const doc = JSON.parse(gunzipSync(raw).toString('utf8')) as { version: number; model: unknown };
  return build(parseSiteModel(doc.model), doc.version);
}

/**
 * Keeps an up-to-date Registry in memory: loaded at start, reloaded when a new model is published
 * (pub/sub), and polled as a safety net in case a notification was missed during a Redis restart.
 */
export class RegistryClient<R extends SiteRegistry = Registry> {
  private current: R;
  private readonly sub: Redis;
  private readonly timer: NodeJS.Timeout;
  private readonly listeners: ((r: R) => void)[] = [];

  private constructor(
    private readonly redis: Redis,
    private readonly site: string,
    private readonly build: RegistryBuilder<R>,
    initial: R,
    pollMs: number,
  ) {
    this.current = initial;
    this.sub = redis.duplicate();
    this.sub.on('error', () => undefined);
    this.sub.on('message', () => void this.refresh());
    this.timer = setInterval(() => void this.refresh(), pollMs);
    this.timer.unref();
  }

  static async connect(redisUrl: string, site: string, pollMs = 30_000): Promise<RegistryClient> {
    return RegistryClient.open(redisUrl, site, plain, pollMs);
  }

  /** The same client holding a `CompactRegistry`: for a process with a large registry and a hot path. */
  static async connectCompact(
    redisUrl: string,
    site: string,
    pollMs = 30_000,
  ): Promise<RegistryClient<CompactRegistry>> {
    return RegistryClient.open(
      redisUrl,
      site,
      (model, version) => new CompactRegistry(model, version),
      pollMs,
    );
  }

  private static async open<T extends SiteRegistry>(
    redisUrl: string,
    site: string,
    build: RegistryBuilder<T>,
    pollMs: number,
  ): Promise<RegistryClient<T>> {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: false });
    redis.on('error', () => undefined); // reconnects on its own; reads fail over to the cached registry
    const client = new RegistryClient(redis, site, build, await fetchRegistry(redis, site, build), pollMs);
    await client.sub.subscribe(RegistryKeys.changed); // before returning: no change slips by unseen
    return client;
  }

  get registry(): R {
    return this.current;
  }

  onChange(fn: (r: R) => void): void {
    this.listeners.push(fn);
  }

  /** Reloads if Redis holds a newer version; keeps the cached one when Redis is unreachable. */
  async refresh(): Promise<void> {
    try {
      const version = Number((await this.redis.get(RegistryKeys.version)) ?? 0);
      if (version === this.current.version) return;
      this.current = await fetchRegistry(this.redis, this.site, this.build);
      for (const fn of this.listeners) fn(this.current);
    } catch {
      // Redis down: keep serving the cached registry
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.sub.disconnect();
    await this.redis.quit().catch(() => undefined);
  }
}

/** Assets and points a source contributes to the registry (an ingest bridge that learns them from metadata). */
export interface Contribution {
  assets: SiteModel['assets'];
  points: SiteModel['points'];
}

/**
 * Merges a contribution into the current registry: its assets and points replace those with the same ids,
 * everything else is kept. Optimistic (WATCH on the version), so two bridges merging at once both land.
 * Returns the new version, or the current one when the merge changes nothing.
 */
export async function mergeSiteModel(
  redis: Redis,
  site: string,
  contribution: Contribution,
): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt++) {
    await redis.watch(RegistryKeys.version);
    const current = await fetchRegistry(redis, site);
    const assetIds = new Set(contribution.assets.map((a) => a.id));
    const pointIds = new Set(contribution.points.map((p) => p.pointId));
    const merged = parseSiteModel({
      site: current.version === 0 ? site : current.model.site,
      assets: [...current.model.assets.filter((a) => !assetIds.has(a.id)), ...contribution.assets],
      points: [...current.model.points.filter((p) => !pointIds.has(p.pointId)), ...contribution.points],
    });
    if (current.version > 0 && JSON.stringify(merged) === JSON.stringify(current.model)) {
      await redis.unwatch();
      return current.version;
    }
    const version = current.version + 1;
    const result = await redis
      .multi()
      .set(RegistryKeys.version, String(version))
      .set(RegistryKeys.model, gzipSync(JSON.stringify({ version, model: merged })))
      .publish(RegistryKeys.changed, String(version))
      .exec();
    if (result !== null) return version; // null: someone else published in between; read again
  }
  throw new Error('registry merge lost the race 10 times in a row');
}
