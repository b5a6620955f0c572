import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { rfc3339Nano, timeNsFromBigInt } from '@busway/proto';
import type { RegistryClient } from '@busway/registry';
import { assetTree, parseAssetQuery, type AssetTree } from './assets.js';
import type { ApiConfig } from './config.js';
import { ApiError, badRequest } from './errors.js';
import type { HistoryStore } from './history-store.js';
import { intParam, numberParam, onlyParams, stringParam, type Query } from './query.js';
import { hashes, lastValueJson, RedisKeys, redisUnavailable, type HashIndex } from './redis-reads.js';
import type { SseHub } from './sse.js';
import { parseHistoryQuery } from './time-range.js';
import { parseUnsPattern } from './uns-pattern.js';

export interface RouteDeps {
  config: ApiConfig;
  redis: Redis;
  registry: RegistryClient;
  lastValues: HashIndex;
  anomalies: HashIndex;
  history: HistoryStore;
  sse: SseHub;
}

const read = { config: { scope: 'read' as const } };

/** Redis failures become 503; refusals pass through. */
async function fromRedis<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw err instanceof ApiError ? err : redisUnavailable(err);
  }
}

const tooMany = (what: string, limit: number, max: number) =>
  badRequest(
    'too-many-matches',
    `the pattern matches more than ${limit} ${what}: narrow it${limit < max ? ` or raise limit (at most ${max})` : ''}`,
  );

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { config, redis } = deps;

  app.get('/v1/values', read, async (req) => {
    const q = req.query as Query;
    onlyParams(q, ['path', 'limit']);
    const pattern = parseUnsPattern(stringParam(q, 'path'));
    const limit = intParam(q, 'limit', 1, config.maxValues) ?? config.maxValues;
    if (pattern.exact) {
      const h = await fromRedis(() => redis.hgetall(`${RedisKeys.lastValuePrefix}${pattern.subject}`));
      if (Object.keys(h).length === 0)
        throw new ApiError(
          404,
          'unknown-point',
          `no value for ${pattern.subject} (never received, or a typo)`,
        );
      return { count: 1, values: [lastValueJson(pattern.subject, h)] };
    }
    const subjects = deps.lastValues.match(pattern.subject, limit + 1);
    if (subjects.length > limit) throw tooMany('points', limit, config.maxValues);
    const found = await fromRedis(() =>
      hashes(
        redis,
        subjects.map((s) => `${RedisKeys.lastValuePrefix}${s}`),
      ),
    );
    const values = subjects.flatMap((s, i) => (found[i] ? [lastValueJson(s, found[i])] : []));
    return { count: values.length, values };
  });

  app.get('/v1/history', read, async (req) => {
    const q = parseHistoryQuery(req.query as Query, Date.now(), config);
    for (const [i, resolution] of q.resolutions.entries()) {
      let result;
      try {
        result = await deps.history.read(resolution, q.subject, q.fromNs, q.toNs, q.limit);
      } catch (err) {
        if (err instanceof ApiError) throw err;
        throw new ApiError(503, 'history-unavailable', `history read failed: ${(err as Error).message}`, {
          'retry-after': '1',
        });
      }
      if (result.overLimit) {
        if (i < q.resolutions.length - 1) continue; // auto: too many raw values, read the rollups instead
        throw badRequest(
          'too-many-points',
          `the range holds more than ${q.limit} ${resolution === 'raw' ? 'raw values' : `${resolution} windows`}: shorten it${resolution === 'raw' ? ', or use resolution=1m' : ''}`,
        );
      }
      return {
        path: q.subject,
        resolution,
        from: rfc3339Nano(timeNsFromBigInt(q.fromNs)),
        to: rfc3339Nano(timeNsFromBigInt(q.toNs)),
        unit: result.unit,
        count: result.points.length,
        points: result.points,
      };
    }
    throw new Error('no resolution to read'); // parseHistoryQuery always gives one
  });

  let treeCache = new Map<string, AssetTree>();
  let treeVersion = -1;
  app.get('/v1/assets', read, async (req) => {
    const filter = parseAssetQuery(req.query as Query);
    const registry = deps.registry.registry;
    if (registry.version !== treeVersion) {
      treeCache = new Map();
      treeVersion = registry.version;
    }
    const key = JSON.stringify(filter);
    let tree = treeCache.get(key);
    if (!tree) {
      tree = assetTree(registry, filter);
      if (treeCache.size < 64) treeCache.set(key, tree);
    }
    return tree;
  });

  app.get('/v1/incidents', read, async (req) => {
    const q = req.query as Query;
    onlyParams(q, ['limit']);
    const limit = intParam(q, 'limit', 1, 1000) ?? 100;
    const raw = await fromRedis(() => redis.lrange(RedisKeys.incidents, 0, limit - 1));
    const incidents = raw.flatMap((s) => {
      try {
        return [JSON.parse(s) as unknown];
      } catch {
        return []; // not written by fan-out
      }
    });
    return { count: incidents.length, incidents };
  });

  app.get('/v1/anomalies', read, async (req) => {
    const q = req.query as Query;
    onlyParams(q, ['path', 'minScore', 'limit']);
    const pattern = parseUnsPattern(stringParam(q, 'path') ?? 'uns.v1.>');
    const minScore = numberParam(q, 'minScore', 0, 1) ?? 0;
    const limit = intParam(q, 'limit', 1, config.maxValues) ?? 100;
    const subjects = pattern.exact
      ? [pattern.subject]
      : deps.anomalies.match(pattern.subject, config.maxValues + 1);
    if (subjects.length > config.maxValues)
      throw tooMany('scored points', config.maxValues, config.maxValues);
    const found = await fromRedis(() =>
      hashes(
        redis,
        subjects.map((s) => `${RedisKeys.anomalyPrefix}${s}`),
      ),
    );
    const anomalies = subjects
      .flatMap((path, i) => {
        const h = found[i];
        if (!h) return [];
        const score = Number(h.score);
        return score >= minScore ? [{ path, score, label: h.label, reason: h.reason, time: h.time }] : [];
      })
      .sort((a, b) => b.score - a.score)
      .slice(0, limit);
    return { count: anomalies.length, anomalies };
  });

  app.get('/v1/stream', read, async (req, reply) => {
    const q = req.query as Query;
    onlyParams(q, ['path']);
    const pattern = parseUnsPattern(stringParam(q, 'path'));
    deps.sse.admit();
    reply.hijack(); // the hub owns the socket from here on
    deps.sse.open(reply.raw, pattern.subject);
  });
}
