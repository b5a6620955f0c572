import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentSeqs } from './recent-seqs.js';

describe('the recent input sequences', () => {
  it('remembers the last `capacity` sequences and forgets the oldest first', () => {
    const recent = new RecentSeqs(3);
    for (const seq of [10, 11, 12]) recent.add(seq);
    assert.deepEqual(
      [10, 11, 12].map((s) => recent.has(s)),
      [true, true, true],
    );
    recent.add(13);
    assert.deepEqual(
      [10, 11, 12, 13].map((s) => recent.has(s)),
      [false, true, true, true],
    );
    recent.add(12); // a sequence seen again takes no new place
    recent.add(14);
    assert.deepEqual(
      [11, 12, 13, 14].map((s) => recent.has(s)),
      [false, true, true, true],
    );
  });
});
