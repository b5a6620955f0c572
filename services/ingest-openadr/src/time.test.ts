import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { openAdrSpec } from '@busway/simulator';
import { addDuration, formatDateTime, isOpenEnded, NOW_START, parseDateTime, parseDuration } from './time.js';

const NS = 1_000_000n;
const at = (iso: string) => {
  const t = parseDateTime(iso);
  assert.ok(typeof t === 'bigint', `${iso} parses`);
  return t;
};
const plus = (iso: string, duration: string) => {
  const d = parseDuration(duration);
  assert.ok(d, `${duration} parses`);
  const end = addDuration(at(iso), d);
  assert.ok(end !== undefined);
  return formatDateTime(end);
};

/** Strings built from the pieces of durations, so that most are near misses of valid ones. */
const durationish = fc
  .array(
    fc.constantFrom('-', 'P', 'T', 'Y', 'M', 'W', 'D', 'H', 'S', '.', '1', '0', '25', '9999', ' ', 'x'),
    {
      maxLength: 10,
    },
  )
  .map((parts) => parts.join(''));

describe('ISO 8601 durations', () => {
  it('adds fixed lengths exactly and calendar months the XML Schema way (the day clamped to the month)', () => {
    assert.equal(plus('2024-03-10T00:00:00Z', 'PT1H30M'), '2024-03-10T01:30:00.000Z');
    assert.equal(plus('2024-03-10T00:00:00Z', 'P2W'), '2024-03-24T00:00:00.000Z');
    assert.equal(plus('2024-03-10T00:00:00Z', 'PT0.25S'), '2024-03-10T00:00:00.250Z');
    assert.equal(plus('2024-01-31T12:00:00Z', 'P1M'), '2024-02-29T12:00:00.000Z');
    assert.equal(plus('2023-01-31T12:00:00Z', 'P1M'), '2023-02-28T12:00:00.000Z');
    assert.equal(plus('2024-02-29T00:00:00Z', 'P1Y'), '2025-02-28T00:00:00.000Z');
    assert.equal(plus('2024-12-15T00:00:00Z', 'P1Y2M3DT4H5M6S'), '2026-02-18T04:05:06.000Z');
  });

  it('reads P9999Y as open-ended, and refuses what the document pattern refuses', () => {
    const forever = parseDuration('P9999Y');
    assert.ok(forever && isOpenEnded(forever));
    for (const bad of ['PT', 'P', '1H', 'P1H', 'PT1.5M', 'P1W2D', 'pt1h', 'P1DT1H1M1.S', ''])
      assert.equal(parseDuration(bad), undefined, bad);
    const negative = parseDuration('-PT1H');
    assert.ok(negative?.negative);
  });

  it('accepts a string exactly when the OpenADR document pattern does, and never throws', () => {
    const spec = openAdrSpec();
    fc.assert(
      fc.property(fc.oneof(durationish, fc.string()), (text) => {
        const parsed = parseDuration(text);
        const valid = spec.check('duration', text) === undefined;
        // counts beyond 2^53 match the pattern but are no duration a double can hold: refused on purpose
        if (/\d{16,}/.test(text)) assert.ok(parsed === undefined || valid);
        else assert.equal(parsed !== undefined, valid, JSON.stringify(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('moves forward by exactly the sum of the fixed parts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4e12 }),
        fc.record({
          w: fc.nat(60),
          d: fc.nat(400),
          h: fc.nat(100),
          m: fc.nat(1000),
          s: fc.nat(100_000),
          frac: fc.nat(999_999_999),
        }),
        (startMs, p) => {
          const d = parseDuration(`PT${p.h}H${p.m}M${p.s}.${String(p.frac).padStart(9, '0')}S`);
          assert.ok(d);
          const start = BigInt(startMs) * NS;
          const expectedS = BigInt(p.h * 3600 + p.m * 60 + p.s);
          assert.equal(addDuration(start, d), start + expectedS * 1_000_000_000n + BigInt(p.frac));
          const days = parseDuration(`P${p.d}D`);
          assert.ok(days);
          assert.equal(addDuration(start, days), start + BigInt(p.d) * 86_400_000_000_000n);
          const weeks = parseDuration(`P${p.w}W`);
          assert.ok(weeks);
          assert.equal(addDuration(start, weeks), start + BigInt(p.w) * 7n * 86_400_000_000_000n);
        },
      ),
    );
  });

  it('never moves back for a duration of zero or more, whatever the calendar parts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4e12 }),
        fc.nat(3000),
        fc.nat(400),
        fc.nat(40),
        (startMs, y, mo, d) => {
          const start = BigInt(startMs) * NS;
          const dur = parseDuration(`P${y}Y${mo}M${d}D`);
          assert.ok(dur);
          const end = addDuration(start, dur);
          assert.ok(end !== undefined && end >= start);
          // whole months keep the time of day, and the day of the month when every month has it
          const months = parseDuration(`P${y}Y${mo}M`);
          assert.ok(months);
          const moved = addDuration(start, months);
          assert.ok(moved !== undefined);
          const [from, to] = [new Date(startMs), new Date(Number(moved / NS))];
          assert.equal(
            to.getUTCHours() * 3600e3 + (Number(moved / NS) % 3600e3),
            from.getUTCHours() * 3600e3 + (startMs % 3600e3),
          );
          if (from.getUTCDate() <= 28) assert.equal(to.getUTCDate(), from.getUTCDate());
          assert.equal(
            (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + to.getUTCMonth() - from.getUTCMonth(),
            y * 12 + mo,
          );
        },
      ),
    );
  });
});

describe('RFC 3339 date-times', () => {
  it('keeps nanoseconds, applies offsets, and reads 0001-01-01 as now', () => {
    assert.equal(at('2024-06-15T09:30:00.123456789Z') % 1_000_000_000n, 123_456_789n);
    assert.equal(at('2024-01-01T01:00:00+01:00'), at('2024-01-01T00:00:00Z'));
    assert.equal(at('2023-12-31T19:00:00-05:00'), at('2024-01-01T00:00:00Z'));
    assert.equal(parseDateTime('0001-01-01'), NOW_START);
    assert.equal(parseDateTime('0001-01-01T00:00:00Z'), NOW_START);
    for (const bad of [
      '2023-02-29T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01',
      'now',
    ])
      assert.equal(parseDateTime(bad), undefined, bad);
  });

  // up to 9999-12-31: RFC 3339 years have four digits
  it('reads every instant Date prints back to the same millisecond, and never throws on any text', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), (ms) => {
        assert.equal(parseDateTime(new Date(ms).toISOString()), BigInt(ms) * NS);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        const t = parseDateTime(text);
        assert.ok(t === undefined || t === NOW_START || typeof t === 'bigint');
      }),
    );
  });
});
