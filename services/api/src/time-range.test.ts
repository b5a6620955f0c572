import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ApiError } from './errors.js';
import { parseHistoryQuery, parseTime } from './time-range.js';

const NOW = Date.UTC(2027, 0, 15, 8, 0, 0);
const LIMITS = { maxPoints: 10_000, maxRangeMs: 400 * 86_400_000, rawMaxRangeMs: 7_200_000 };
const POINT = 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-r1.temperature.coolant.return';
const ns = (ms: number) => BigInt(ms) * 1_000_000n;

const refusedWith400 = (f: () => unknown) => {
  try {
    f();
    return false;
  } catch (err) {
    assert.ok(err instanceof ApiError, `not an ApiError: ${String(err)}`);
    assert.equal(err.status, 400);
    return true;
  }
};

describe('time parsing', () => {
  it('reads any RFC 3339 UTC time back to the same nanosecond', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 253_402_300_799_999 }),
        fc.integer({ min: 0, max: 999_999 }),
        (ms, subMs) => {
          const iso = new Date(ms).toISOString(); // 2027-01-15T08:00:00.123Z
          const nano = `${iso.slice(0, 23)}${String(subMs).padStart(6, '0')}Z`;
          assert.equal(parseTime(iso, NOW, 't'), ns(ms));
          assert.equal(parseTime(nano, NOW, 't'), ns(ms) + BigInt(subMs));
          assert.equal(parseTime(String(ms), NOW, 't'), ns(ms), 'epoch milliseconds');
        },
      ),
    );
  });

  it('applies a UTC offset and relative times from now', () => {
    assert.equal(parseTime('2027-01-15T10:00:00+02:00', NOW, 't'), ns(NOW));
    assert.equal(parseTime('2027-01-15T03:30:00-04:30', NOW, 't'), ns(NOW));
    assert.equal(parseTime('now', NOW, 't'), ns(NOW));
    assert.equal(parseTime('now-15m', NOW, 't'), ns(NOW - 900_000));
    assert.equal(parseTime('now-2d', NOW, 't'), ns(NOW - 2 * 86_400_000));
  });

  it('refuses impossible dates and anything else with a 400, never another error', () => {
    for (const bad of [
      '2027-02-30T00:00:00Z',
      '2027-13-01T00:00:00Z',
      '2027-01-15T24:00:00Z',
      '1969-12-31T23:59:59Z',
      'yesterday',
      '2027-01-15',
      'now-5w',
      '99999999999999999',
    ])
      assert.ok(
        refusedWith400(() => parseTime(bad, NOW, 'from')),
        bad,
      );
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => void refusedWith400(() => parseTime(s, NOW, 'from'))),
    );
  });
});

describe('history query parsing', () => {
  it('defaults to the last hour, read raw then from 1 min rollups', () => {
    const q = parseHistoryQuery({ path: POINT }, NOW, LIMITS);
    assert.equal(q.toNs, ns(NOW));
    assert.equal(q.fromNs, ns(NOW - 3_600_000));
    assert.deepEqual(q.resolutions, ['raw', '1m']);
    assert.equal(q.limit, 10_000);
  });

  it('picks 1 min rollups for days and 1 h rollups for months, and refuses a range too long for either', () => {
    assert.deepEqual(parseHistoryQuery({ path: POINT, from: 'now-5d' }, NOW, LIMITS).resolutions, ['1m']);
    assert.deepEqual(parseHistoryQuery({ path: POINT, from: 'now-90d' }, NOW, LIMITS).resolutions, ['1h']);
    assert.ok(
      refusedWith400(() => parseHistoryQuery({ path: POINT, from: 'now-90d', limit: '100' }, NOW, LIMITS)),
    );
  });

  it('refuses wildcards, reversed and huge ranges, unknown parameters, repeated ones and bad resolutions', () => {
    const reasonOf = (query: Record<string, unknown>) => {
      try {
        parseHistoryQuery(query, NOW, LIMITS);
      } catch (err) {
        return `${(err as ApiError).code}: ${(err as Error).message}`;
      }
      return 'accepted';
    };
    assert.match(reasonOf({ path: 'uns.v1.ai1.>' }), /^wildcard-history/);
    assert.match(reasonOf({ path: POINT, from: 'now', to: 'now-1h' }), /^bad-range: from must be before to/);
    assert.match(reasonOf({ path: POINT, from: '0' }), /^range-too-long/);
    assert.match(
      reasonOf({ path: POINT, form: 'now-1h' }),
      /^unknown-parameter: unknown query parameter 'form'/,
    );
    assert.match(reasonOf({ path: [POINT, POINT] }), /^duplicate-parameter/);
    assert.match(reasonOf({ path: POINT, resolution: '5m' }), /^bad-parameter: resolution must be/);
    assert.match(
      reasonOf({ path: POINT, from: 'now-30d', resolution: '1m' }),
      /^too-many-points: the range holds 43200 windows/,
    );
    assert.match(
      reasonOf({ path: POINT, limit: '0' }),
      /^bad-parameter: limit must be a whole number from 1 to 10000/,
    );
  });

  it('answers any query either with a bounded range or a 400 with a reason', () => {
    const value = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(POINT, 'now', 'now-1h', 'now-90d', '1800000000000', 'raw', '1m', '1h', 'auto', '10'),
      fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }),
    );
    const query = fc.dictionary(fc.constantFrom('path', 'from', 'to', 'resolution', 'limit', 'x'), value);
    fc.assert(
      fc.property(query, (q) => {
        try {
          const r = parseHistoryQuery(q, NOW, LIMITS);
          assert.ok(r.fromNs < r.toNs);
          assert.ok(r.toNs - r.fromNs <= ns(LIMITS.maxRangeMs));
          assert.ok(r.limit >= 1 && r.limit <= LIMITS.maxPoints);
          assert.ok(r.resolutions.length >= 1);
        } catch (err) {
          assert.ok(err instanceof ApiError && err.status === 400, String(err));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
