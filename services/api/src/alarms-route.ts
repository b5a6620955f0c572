import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { ApiConfig } from './config.js';
import { ApiError } from './errors.js';
import { intParam, onlyParams, stringParam, type Query } from './query.js';
import { redisUnavailable } from './redis-reads.js';
import { parseUnsPattern, subjectMatches } from './uns-pattern.js';

/** The hash of active alarms fan-out keeps (services/fanout/src/redis-keys.ts, version 1): field alarm_id, value JSON. */
export const ACTIVE_ALARMS_KEY = 'busway:alarms:v1:active';

/** An active alarm as fan-out stores it (its AlarmJson); the API passes it on as it is. */
export interface ActiveAlarm {
  alarmId: string;
  /** UNS subject of the series that raised it. */
  path: string;
  /** When it was raised, RFC 3339 with nanoseconds. */
  raised: string;
  [field: string]: unknown;
}

/** The alarms of a hash read, newest raise first; entries that are not fan-out's JSON are skipped. */
export function activeAlarmsOf(hash: Record<string, string>, pattern?: string): ActiveAlarm[] {
  const out: ActiveAlarm[] = [];
  for (const [alarmId, json] of Object.entries(hash)) {
    let a: Partial<ActiveAlarm>;
    try {
      a = JSON.parse(json) as Partial<ActiveAlarm>;
    } catch {
      continue; // not written by fan-out
    }
    if (typeof a !== 'object' || a === null || typeof a.path !== 'string') continue;
    if (pattern && !subjectMatches(pattern, a.path)) continue;
    out.push({ ...a, alarmId, path: a.path, raised: typeof a.raised === 'string' ? a.raised : '' });
  }
  // RFC 3339 with nanoseconds in UTC has a fixed width: text order is time order
  return out.sort((x, y) => (x.raised < y.raised ? 1 : x.raised > y.raised ? -1 : 0));
}

/** GET /v1/alarms: the active alarms (raised by the anomaly worker, kept by fan-out), optionally by UNS pattern. */
export function registerAlarmRoutes(app: FastifyInstance, deps: { config: ApiConfig; redis: Redis }): void {
  app.get('/v1/alarms', { config: { scope: 'read' as const } }, async (req) => {
    const q = req.query as Query;
    onlyParams(q, ['path', 'limit']);
    const raw = stringParam(q, 'path');
    const pattern = raw === undefined ? undefined : parseUnsPattern(raw).subject;
    const limit = intParam(q, 'limit', 1, deps.config.maxValues) ?? 100;
    let hash: Record<string, string>;
    try {
      hash = await deps.redis.hgetall(ACTIVE_ALARMS_KEY);
    } catch (err) {
      throw err instanceof ApiError ? err : redisUnavailable(err);
    }
    const matched = activeAlarmsOf(hash, pattern);
    const alarms = matched.slice(0, limit);
    return { count: alarms.length, matched: matched.length, alarms };
  });
}
