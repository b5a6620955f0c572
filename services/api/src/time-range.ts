import { badRequest } from './errors.js';
import { intParam, onlyParams, stringParam, type Query } from './query.js';
import { parseUnsPattern } from './uns-pattern.js';

/** What a history response is made of: raw normalized values, or 1 min / 1 h rollups. */
export type Resolution = 'raw' | '1m' | '1h';
export const PERIOD_MS = { '1m': 60_000, '1h': 3_600_000 } as const;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const MAX_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

/**
 * A point in time as nanoseconds since the epoch, from RFC 3339 (`2027-01-15T08:00:00.123456789Z`, any
 * offset), epoch milliseconds (`1800000000000`), `now` or `now-<n><ms|s|m|h|d>` (`now-15m`).
 */
export function parseTime(raw: string, nowMs: number, name: string): bigint {
  const rel = /^now(?:-(\d{1,9})(ms|s|m|h|d))?$/.exec(raw);
  if (rel) {
    const ms = nowMs - (rel[1] ? Number(rel[1]) * (UNIT_MS[rel[2] as string] as number) : 0);
    return inRange(ms, raw, name) * 1_000_000n;
  }
  if (/^\d{1,15}$/.test(raw)) return inRange(Number(raw), raw, name) * 1_000_000n;
  const m = RFC3339.exec(raw);
  if (!m)
    throw badRequest(
      'bad-time',
      `${name} '${raw.slice(0, 40)}' is not RFC 3339 (2027-01-15T08:00:00Z), epoch milliseconds, 'now' or 'now-<n><ms|s|m|h|d>'`,
    );
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const utcMs = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(utcMs);
  if (
    y < 1970 ||
    check.getUTCFullYear() !== y ||
    check.getUTCMonth() !== mo - 1 ||
    check.getUTCDate() !== d ||
    h > 23 ||
    mi > 59 ||
    s > 59
  )
    throw badRequest('bad-time', `${name} '${raw.slice(0, 40)}' is not a valid date and time after 1970`);
  let offsetMs = 0;
  if (m[9]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59)
      throw badRequest('bad-time', `${name} '${raw.slice(0, 40)}' has an invalid UTC offset`);
    offsetMs = (m[9] === '+' ? 1 : -1) * (oh * 3_600_000 + om * 60_000);
  }
  const fracNs = BigInt((m[7] ?? '').padEnd(9, '0'));
  return inRange(utcMs - offsetMs, raw, name) * 1_000_000n + fracNs;
}

function inRange(ms: number, raw: string, name: string): bigint {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_MS)
    throw badRequest('bad-time', `${name} '${raw.slice(0, 40)}' is outside 1970-01-01 to 9999-12-31`);
  return BigInt(ms);
}

export interface HistoryLimits {
  maxPoints: number;
  maxRangeMs: number;
  rawMaxRangeMs: number;
}

export interface HistoryQuery {
  subject: string;
  fromNs: bigint;
  toNs: bigint;
  /** Resolutions to try in order: `auto` falls back from raw to 1 min when raw holds more than `limit`. */
  resolutions: Resolution[];
  /** Points the response may hold. */
  limit: number;
}

const RESOLUTIONS = ['raw', '1m', '1h', 'auto'] as const;
const msOf = (ns: bigint) => Number(ns / 1_000_000n);
const windowsIn = (fromNs: bigint, toNs: bigint, periodMs: number) => {
  const start = Math.floor(msOf(fromNs) / periodMs) * periodMs;
  return Math.ceil((msOf(toNs) - start) / periodMs);
};

/** Reads `GET /v1/history` parameters: one point, a bounded range, a resolution. Throws a 400 with the reason. */
export function parseHistoryQuery(query: Query, nowMs: number, limits: HistoryLimits): HistoryQuery {
  onlyParams(query, ['path', 'from', 'to', 'resolution', 'limit']);
  const path = parseUnsPattern(stringParam(query, 'path'));
  if (!path.exact)
    throw badRequest(
      'wildcard-history',
      'history is read for one point at a time: path must name a point, without * or > (patterns work on /v1/values and /v1/stream)',
    );
  const toRaw = stringParam(query, 'to');
  const fromRaw = stringParam(query, 'from');
  const toNs = toRaw === undefined ? BigInt(nowMs) * 1_000_000n : parseTime(toRaw, nowMs, 'to');
  const fromNs = fromRaw === undefined ? toNs - 3_600_000n * 1_000_000n : parseTime(fromRaw, nowMs, 'from');
  if (fromNs >= toNs) throw badRequest('bad-range', 'from must be before to');
  const rangeMs = msOf(toNs - fromNs);
  if (rangeMs > limits.maxRangeMs)
    throw badRequest(
      'range-too-long',
      `the range is ${rangeMs} ms long; at most ${limits.maxRangeMs} ms (${Math.round(limits.maxRangeMs / 86_400_000)} d)`,
    );
  const resolution = stringParam(query, 'resolution') ?? 'auto';
  if (!(RESOLUTIONS as readonly string[]).includes(resolution))
    throw badRequest(
      'bad-parameter',
      `resolution must be raw, 1m, 1h or auto, not '${resolution.slice(0, 16)}'`,
    );
  const limit = intParam(query, 'limit', 1, limits.maxPoints) ?? limits.maxPoints;
  const fits = (r: '1m' | '1h') => windowsIn(fromNs, toNs, PERIOD_MS[r]) <= limit;
  let resolutions: Resolution[];
  if (resolution === 'raw') resolutions = ['raw'];
  else if (resolution === '1m' || resolution === '1h') {
    if (!fits(resolution))
      throw badRequest(
        'too-many-points',
        `the range holds ${windowsIn(fromNs, toNs, PERIOD_MS[resolution])} windows of ${resolution}, more than the limit of ${limit}: shorten it or use a coarser resolution`,
      );
    resolutions = [resolution];
  } else {
    const rollup = (['1m', '1h'] as const).find(fits);
    if (!rollup)
      throw badRequest(
        'too-many-points',
        `the range holds more than ${limit} hours: shorten it or raise limit (at most ${limits.maxPoints})`,
      );
    resolutions = rangeMs <= limits.rawMaxRangeMs ? ['raw', rollup] : [rollup];
  }
  return { subject: path.subject, fromNs, toNs, resolutions, limit };
}
