import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { busway, Long, timeNsFromMs } from '@busway/proto';
import { readingOf, readingOfHash } from './point-watch.js';

const T = 1_800_000_000_123;

describe('readings of a readback point', () => {
  it('take the value of a normalized sample of any numeric or boolean type, with its quality and event time', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean()),
        fc.constantFrom(
          busway.v1.Quality.QUALITY_GOOD,
          busway.v1.Quality.QUALITY_BAD,
          busway.v1.Quality.QUALITY_STALE,
        ),
        fc.boolean(),
        (v, quality, asInt) => {
          const s: busway.v1.ISample = { quality, eventTimeNs: timeNsFromMs(T) };
          if (typeof v === 'boolean') s.boolValue = v;
          else if (asInt && Number.isSafeInteger(v)) s.intValue = Long.fromNumber(v);
          else s.doubleValue = v;
          const r = readingOf(s);
          // === rather than Object.is: -0 and 0 are the same reading (an integer has no negative zero)
          assert.ok(r !== undefined && r.value === v, `${String(r?.value)} for ${String(v)}`);
          assert.deepEqual(
            { good: r.good, timeMs: r.timeMs },
            { good: quality === busway.v1.Quality.QUALITY_GOOD, timeMs: T },
          );
        },
      ),
    );
    assert.equal(
      readingOf({ stringValue: 'on', eventTimeNs: timeNsFromMs(T) }),
      undefined,
      'text is never a setpoint',
    );
    assert.equal(readingOf({ eventTimeNs: timeNsFromMs(T) }), undefined, 'a null (no value)');
  });

  it("read fan-out's Redis last value, and nothing from a hash that is not one", () => {
    const ns = (BigInt(T) * 1_000_000n).toString();
    assert.deepEqual(readingOfHash({ value: '24.5', type: 'double', quality: 'good', timeNs: ns }), {
      value: 24.5,
      good: true,
      timeMs: T,
    });
    assert.deepEqual(readingOfHash({ value: 'true', type: 'bool', quality: 'stale', timeNs: ns }), {
      value: true,
      good: false,
      timeMs: T,
    });
    assert.equal(readingOfHash({}), undefined);
    assert.equal(readingOfHash({ value: 'on', type: 'string', quality: 'good', timeNs: ns }), undefined);
    assert.equal(readingOfHash({ value: 'x', type: 'double', quality: 'good', timeNs: ns }), undefined);
  });
});
