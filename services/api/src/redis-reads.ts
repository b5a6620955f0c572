import type { Redis } from 'ioredis';
import type { Logger } from '@busway/runtime';
import { ApiError } from './errors.js';
import { SubjectTrie } from './subject-trie.js';

/** The Redis contract fan-out writes (services/fanout/src/redis-keys.ts), version 1. */
export const RedisKeys = {
  lastValueIndex: 'busway:lv:v1:index',
  lastValuePrefix: 'busway:lv:v1:',
  incidents: 'busway:incidents:v1',
  anomalyIndex: 'busway:anomaly:v1:index',
  anomalyPrefix: 'busway:anomaly:v1:',
} as const;

/** Redis is unreachable or slow: 503, the caller may retry. */
export const redisUnavailable = (err: unknown) =>
  new ApiError(503, 'redis-unavailable', `the value cache is unavailable: ${(err as Error).message}`, {
    'retry-after': '1',
  });

/**
 * The subjects of an index set (fan-out adds a hash key to it for every point it writes), held in a trie for
 * pattern queries and re-read every `refreshMs` when its cardinality changed (fan-out never removes one).
 */
export class HashIndex {
  private trie = new SubjectTrie();
  private known = -1;
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;

  constructor(
    private readonly redis: Redis,
    private readonly indexKey: string,
    private readonly keyPrefix: string,
    private readonly refreshMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Re-reads the set if it changed; keeps the current index when Redis is unreachable. */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const card = await this.redis.scard(this.indexKey);
        if (card === this.known) return;
        const trie = new SubjectTrie();
        let cursor = '0';
        do {
          const [next, keys] = await this.redis.sscan(this.indexKey, cursor, 'COUNT', 2000);
          for (const k of keys) if (k.startsWith(this.keyPrefix)) trie.add(k.slice(this.keyPrefix.length));
          cursor = next;
        } while (cursor !== '0');
        this.trie = trie;
        this.known = card;
      } catch (err) {
        this.log.debug({ err: (err as Error).message, index: this.indexKey }, 'index refresh failed');
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Subjects matching the pattern, sorted; at most `max` (the caller refuses when there are more). */
  match(pattern: string, max: number): string[] {
    return this.trie.match(pattern, max).sort();
  }

  get size(): number {
    return this.trie.size;
  }
}

/** HGETALL of many keys in one round trip; missing hashes come back as undefined. */
export async function hashes(redis: Redis, keys: string[]): Promise<(Record<string, string> | undefined)[]> {
  if (keys.length === 0) return [];
  const pipe = redis.pipeline();
  for (const k of keys) pipe.hgetall(k);
  const results = (await pipe.exec()) ?? [];
  return results.map(([err, v]) => {
    if (err) throw err;
    const h = v as Record<string, string>;
    return Object.keys(h).length > 0 ? h : undefined;
  });
}

/** A last value as JSON: the value typed as fan-out stored it, with unit, time, quality and location. */
export function lastValueJson(subject: string, h: Record<string, string>): Record<string, unknown> {
  return {
    path: subject,
    value: typedValue(h.value ?? '', h.type ?? 'string'),
    type: h.type,
    unit: h.unit || undefined,
    metric: h.metric,
    time: h.time,
    quality: h.quality,
    pointId: h.pointId,
    unregistered: h.unregistered === 'true',
    site: h.site,
    hall: h.hall,
    row: h.row,
    rack: h.rack,
    assetClass: h.assetClass,
    asset: h.asset,
  };
}

function typedValue(v: string, type: string): unknown {
  if (type === 'null') return null;
  if (type === 'double') return Number(v);
  if (type === 'bool') return v === 'true';
  if (type === 'int') {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v; // beyond 2^53 a JSON number would lose digits
  }
  return v;
}
