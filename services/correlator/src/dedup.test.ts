import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DedupTable } from './dedup.js';

const halves = (seq: bigint) => [Number(seq & 0xffffffffn), Number(seq >> 32n)] as const;

describe('the dedup table', () => {
  it('tells apart uint64 sequences that a double would round to one value', () => {
    const table = new DedupTable(4, 10);
    const [lo1, hi1] = halves(2n ** 53n);
    const [lo2, hi2] = halves(2n ** 53n + 1n); // Number() of both is 9007199254740992
    assert.equal(table.add('p', 1000, lo1, hi1), true);
    assert.equal(table.add('p', 1000, lo2, hi2), true, 'a different sample, not a repeat');
    assert.equal(table.add('p', 1000, lo1, hi1), false, 'the first again is a repeat');
  });

  it('recognizes exactly the identities it recorded, for any uint64 sequence (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { minLength: 1, maxLength: 8 }),
        (seqs) => {
          const table = new DedupTable(8, 4);
          for (const s of seqs) assert.equal(table.add('p', 5, ...halves(s)), true);
          for (const s of seqs) assert.equal(table.has('p', 5, ...halves(s)), true);
          assert.equal(table.has('p', 5, ...halves(seqs[0]! ^ 1n)), seqs.includes(seqs[0]! ^ 1n));
        },
      ),
    );
  });
});
