import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bigIntFromTimeNs, msFromTimeNs, rfc3339Nano, timeNsFromBigInt, timeNsFromMs } from './time.js';

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
});
