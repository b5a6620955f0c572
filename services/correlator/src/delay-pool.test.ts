import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Prng } from '@busway/runtime';
import { MIN_POOLED, poolDelays, type DelayEvidence } from './delay-pool.js';

/** Estimates of a delay that strays by `spreadMs` per event, each measured with its own standard error. */
function estimates(rng: Prng, n: number, delayMs: number, spreadMs: number): DelayEvidence[] {
  return Array.from({ length: n }, () => {
    const sdMs = 150 + 250 * rng.next();
    return { delayMs: delayMs + spreadMs * rng.gaussian() + sdMs * rng.gaussian(), sdMs };
  });
}

describe('the pooled delay of a thermal series', () => {
  it('waits for enough matches to tell noise from straying', () => {
    const some = estimates(new Prng(1), MIN_POOLED - 1, 3000, 0);
    assert.equal(poolDelays(some), undefined);
    assert.ok(poolDelays([...some, { delayMs: 3000, sdMs: 200 }]));
  });

  it('finds a fixed delay far closer than any one estimate, and mostly no straying', () => {
    // one estimate carries 150-400 ms of noise; 40 of them pooled, across 20 series of the same loop delay
    const pools = Array.from({ length: 20 }, (_, i) => poolDelays(estimates(new Prng(i + 1), 40, 3000, 0)));
    const errors = pools.map((p) => Math.abs((p?.delayMs ?? Number.NaN) - 3000));
    assert.ok(Math.max(...errors) < 150, `errors ${errors.map(Math.round).join(', ')}`);
    const spreads = pools.map((p) => p?.spreadMs ?? Number.NaN).sort((a, b) => a - b);
    assert.ok((spreads[10] as number) < 60, `median spread ${spreads[10]}`);
  });

  it('measures real straying, so events that differ keep their own delays', () => {
    const pooled = poolDelays(estimates(new Prng(11), 40, 3000, 1000));
    assert.ok(pooled);
    assert.ok(pooled.spreadMs > 600 && pooled.spreadMs < 1500, `spread ${pooled.spreadMs}`);
    assert.ok(pooled.priorSdMs > 600);
  });

  it('leaves out the estimates a fault bent, even several together', () => {
    const rng = new Prng(3);
    const good = estimates(rng, 30, 3000, 0);
    const bent = [1800, 2000, 2100, 4300, 4400].map((delayMs) => ({ delayMs, sdMs: 150 }));
    const pooled = poolDelays([...good, ...bent]);
    const clean = poolDelays(good);
    assert.ok(pooled && clean);
    assert.equal(pooled.n, good.length, 'the bent ones are out');
    assert.ok(Math.abs(pooled.delayMs - clean.delayMs) < 30, `${pooled.delayMs} vs ${clean.delayMs}`);
    assert.ok(pooled.spreadMs < 150, `spread ${pooled.spreadMs}`);
  });

  it('ignores estimates whose data could not say', () => {
    const pooled = poolDelays([
      ...estimates(new Prng(5), 10, 3000, 0),
      { delayMs: 9000, sdMs: Number.POSITIVE_INFINITY },
      { delayMs: Number.NaN, sdMs: 100 },
    ]);
    assert.equal(pooled?.n, 10);
  });
});
