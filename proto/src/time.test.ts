import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  bigIntFromTimeNs,
  msFromTimeNs,
  parseRfc3339Ns,
  rfc3339Nano,
  timeNsFromBigInt,
  timeNsFromMs,
} from './time.js';

describe('time helpers', () => {
  it('keeps whole milliseconds exact through nanoseconds and back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        assert.equal(msFromTimeNs(timeNsFromMs(ms)), ms);
        assert.equal(bigIntFromTimeNs(timeNsFromMs(ms)), BigInt(ms) * 1_000_000n);
      }),
    );
  });

  it('writes RFC 3339 with all nine fractional digits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 4_102_444_800_000_000_000n }), (ns) => {
        const text = rfc3339Nano(timeNsFromBigInt(ns));
        assert.match(text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
        const [whole, frac] = text.slice(0, -1).split('.');
        assert.equal(BigInt(Date.parse(`${whole}Z`)) * 1_000_000n + BigInt(frac ?? '0'), ns);
      }),
    );
  });

  it('reads back every time it writes, to the nanosecond', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 4_102_444_800_000_000_000n }), (ns) => {
        assert.equal(parseRfc3339Ns(rfc3339Nano(timeNsFromBigInt(ns))), ns);
      }),
    );
  });

  it('applies offsets, keeps times before the epoch, and refuses impossible dates', () => {
    assert.equal(parseRfc3339Ns('2026-01-01T01:00:00+01:00'), parseRfc3339Ns('2026-01-01T00:00:00Z'));
    assert.equal(parseRfc3339Ns('1969-12-31T23:59:59.5Z'), -500_000_000n);
    assert.equal(parseRfc3339Ns('2024-02-29T00:00:00Z'), BigInt(Date.UTC(2024, 1, 29)) * 1_000_000n);
    for (const bad of [
      '2023-02-29T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T00:00:00+24:00',
      '2026-01-01',
    ])
      assert.equal(parseRfc3339Ns(bad), undefined, bad);
  });

  it('takes the offsets and separators devices send only when lenient', () => {
    const z = parseRfc3339Ns('2026-01-01T00:00:00.25Z');
    for (const device of [
      '2026-01-01T01:00:00,25+0100',
      '2026-01-01T01:00:00.25+01',
      ' 2026-01-01T00:00:00.25 Z ',
    ]) {
      assert.equal(parseRfc3339Ns(device), undefined, device);
      assert.equal(parseRfc3339Ns(device, { lenient: true }), z, device);
    }
  });
});
