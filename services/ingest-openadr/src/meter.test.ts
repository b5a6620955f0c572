import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { timeWeightedMean } from './meter.js';

describe('time-weighted mean of a stepped power signal', () => {
  it('holds each reading until the next, from the one in force at the start', () => {
    // 100 W in force before the interval, 300 W for its second half
    const readings = [
      { tMs: 500, w: 100 },
      { tMs: 2000, w: 300 },
      { tMs: 5000, w: 900 },
    ];
    assert.equal(timeWeightedMean(readings, 1000, 3000), 200);
    assert.equal(timeWeightedMean(readings, 0, 1000), 100, 'before the first reading: the first one');
    assert.equal(timeWeightedMean(readings, 6000, 7000), 900, 'after the last reading: the last one');
    assert.equal(timeWeightedMean([], 0, 10), undefined);
    assert.equal(timeWeightedMean(readings, 10, 10), undefined);
  });

  it('stays between the smallest and the largest reading in force, and equals a constant', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            tMs: fc.integer({ min: 0, max: 10_000 }),
            w: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
          }),
          {
            minLength: 1,
            maxLength: 30,
          },
        ),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        (readings, fromMs, spanMs) => {
          const mean = timeWeightedMean(readings, fromMs, fromMs + spanMs);
          assert.ok(mean !== undefined);
          const ws = readings.map((r) => r.w);
          assert.ok(mean >= Math.min(...ws) - 1e-6 && mean <= Math.max(...ws) + 1e-6);
          const constant = readings.map((r) => ({ ...r, w: 42 }));
          assert.ok(Math.abs((timeWeightedMean(constant, fromMs, fromMs + spanMs) ?? 0) - 42) < 1e-9);
        },
      ),
    );
  });
});
