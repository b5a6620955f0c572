import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs, nextPollAt } from './poll.js';

describe('poll schedule', () => {
  it('backs off from the poll interval, doubling, up to the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 40].map((n) => backoffMs(n, 100, 1000)),
      [100, 200, 400, 800, 1000, 1000, 1000],
    );
    assert.equal(backoffMs(3, 1000, 500), 1000, 'never shorter than the poll interval');
  });

  it('keeps to the interval grid and skips the ticks an overrunning cycle missed', () => {
    assert.deepEqual(nextPollAt(1000, 100, 1030), { atMs: 1100, skipped: 0 });
    assert.deepEqual(nextPollAt(1000, 100, 1100), { atMs: 1100, skipped: 0 });
    assert.deepEqual(nextPollAt(1000, 100, 1101), { atMs: 1200, skipped: 1 });
    assert.deepEqual(nextPollAt(1000, 100, 1550), { atMs: 1600, skipped: 5 });
  });
});
