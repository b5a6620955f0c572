import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { busway, timeNsFromMs } from '@busway/proto';
import { fold, merge, newAggregate, rollupValue, windowStartMs, type Aggregate } from './aggregate.js';

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
const finite = fc.double({ min: -1e9, max: 1e9, noNaN: true, noDefaultInfinity: true });

describe('window alignment', () => {
  it('puts every time in the one epoch-aligned window that contains it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.constantFrom(60_000, 3_600_000),
        (t, p) => {
          const start = windowStartMs(t, p);
          assert.ok(start <= t && t < start + p);
          assert.equal(start % p, 0);
        },
      ),
    );
  });
});

describe('aggregates', () => {
  it('fold skips a sample that is not newer than the last one, so a repeat is never counted twice', () => {
    const agg = newAggregate(10, 1000);
    assert.equal(fold(agg, 12, 2000), true);
    assert.equal(fold(agg, 12, 2000), false);
    assert.equal(fold(agg, 99, 1500), false);
    assert.deepEqual(agg, { min: 10, max: 12, sum: 22, count: 2, firstMs: 1000, lastMs: 2000, last: 12 });
  });

  it('merging two windows is commutative for min, max, sum and count and keeps the later last value', () => {
    const aggOf = fc
      .tuple(finite, finite, fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 1e6 }))
      .map(([x, y, count, t]): Aggregate => ({
        min: Math.min(x, y),
        max: Math.max(x, y),
        sum: x + y,
        count,
        firstMs: t,
        lastMs: t + 10,
        last: y,
      }));
    fc.assert(
      fc.property(aggOf, aggOf, (a, b) => {
        const ab = merge(a, b);
        const ba = merge(b, a);
        assert.equal(ab.min, ba.min);
        assert.equal(ab.max, ba.max);
        assert.equal(ab.count, a.count + b.count);
        assert.ok(close(ab.sum, ba.sum));
        assert.equal(ab.lastMs, Math.max(a.lastMs, b.lastMs));
        assert.equal(ab.firstMs, Math.min(a.firstMs, b.firstMs));
      }),
    );
  });
});

describe('which samples are rolled up', () => {
  const path = { site: 's', hall: 'h', row: 'r', rack: 'k', assetClass: 'cdu', asset: 'a' };
  const base = { path, metric: 'flow.coolant', eventTimeNs: timeNsFromMs(1000) };

  it('takes finite numbers of good, uncertain or unspecified quality', () => {
    assert.equal(rollupValue({ ...base, doubleValue: 1.5 }), 1.5);
    assert.equal(
      rollupValue({ ...base, intValue: 7 as never, quality: busway.v1.Quality.QUALITY_UNCERTAIN }),
      7,
    );
  });

  it('skips bad and stale samples, non-numbers, non-finite values and samples without a path', () => {
    assert.equal(
      rollupValue({ ...base, doubleValue: 1, quality: busway.v1.Quality.QUALITY_BAD }),
      'bad-quality',
    );
    assert.equal(
      rollupValue({ ...base, doubleValue: 1, quality: busway.v1.Quality.QUALITY_STALE }),
      'bad-quality',
    );
    assert.equal(rollupValue({ ...base, boolValue: true }), 'not-numeric');
    assert.equal(rollupValue({ ...base, stringValue: 'on' }), 'not-numeric');
    assert.equal(rollupValue({ ...base, doubleValue: Number.NaN }), 'not-numeric');
    assert.equal(rollupValue({ ...base, doubleValue: Number.POSITIVE_INFINITY }), 'not-numeric');
    assert.equal(rollupValue({ metric: 'flow.coolant', doubleValue: 1 }), 'no-path');
  });
});
