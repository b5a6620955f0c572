import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatRedfishTime } from '@busway/simulator';
import { parseRedfishTime } from './time.js';

const NS = 1_000_000_000n;

describe('parseRedfishTime', () => {
  it('applies the offset and keeps a nanosecond fraction', () => {
    assert.equal(
      parseRedfishTime('2016-11-08T12:25:00-05:00'),
      BigInt(Date.UTC(2016, 10, 8, 17, 25)) * 1_000_000n,
    );
    assert.equal(
      parseRedfishTime('2024-03-01T10:00:00.123456789+01:00'),
      BigInt(Date.UTC(2024, 2, 1, 9, 0)) * 1_000_000n + 123_456_789n,
    );
  });

  it('reads the offset spellings BMCs use: Z, z, +hh:mm, +hhmm, +hh, and a space before it', () => {
    const utc = BigInt(Date.UTC(2021, 1, 10, 22, 26, 10)) * 1_000_000n;
    for (const text of [
      '2021-02-10T22:26:10Z',
      '2021-02-10t22:26:10z',
      '2021-02-10T22:26:10+00:00',
      '2021-02-10T23:26:10+0100',
      '2021-02-10T20:26:10-02',
      '2021-02-10 22:26:10 +0000',
    ])
      assert.equal(parseRedfishTime(text), utc, text);
  });

  it('drops fraction digits past the ninth and pads shorter ones', () => {
    const base = BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n;
    assert.equal(parseRedfishTime('2024-01-01T00:00:00.1234567891234Z'), base + 123_456_789n);
    assert.equal(parseRedfishTime('2024-01-01T00:00:00.5Z'), base + 500_000_000n);
    assert.equal(parseRedfishTime('2024-01-01T00:00:00,25Z'), base + 250_000_000n);
  });

  it('refuses what is not a time: no offset, impossible dates, before the epoch, garbage', () => {
    for (const text of [
      '2024-01-01T00:00:00',
      '2023-02-29T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-04-31T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T00:00:00+25:00',
      '1969-12-31T23:59:59Z',
      '1970-01-01T00:30:00+01:00',
      'yesterday',
      '',
    ])
      assert.equal(parseRedfishTime(text), undefined, text);
  });

  it('reads back any instant the simulated BMC writes, whatever its offset and fraction digits (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 86_400n * NS, max: 253_402_000_000n * NS }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        fc.integer({ min: 0, max: 9 }),
        fc.boolean(),
        (ns, offsetMin, digits, noColon) => {
          const text = formatRedfishTime(ns, {
            timestampOffsetMin: offsetMin,
            fractionDigits: digits,
            offsetWithoutColon: noColon,
          });
          const unit = 10n ** BigInt(9 - digits);
          assert.equal(parseRedfishTime(text), (ns / unit) * unit, text);
        },
      ),
    );
  });

  it('never throws on any text (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), (text) => {
        const ns = parseRedfishTime(text);
        assert.ok(ns === undefined || ns >= 0n);
      }),
    );
  });
});
