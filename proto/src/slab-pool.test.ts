import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SlabPool } from './slab-pool.js';

const message = (n: number, fill: number) => Buffer.alloc(n, fill);

describe('SlabPool', () => {
  it('never overwrites a message not given back, whatever is copied and given back around it', () => {
    // each step copies a message (a size and a fill byte) or gives back one still out
    const step = fc.oneof(
      fc.record({ copy: fc.integer({ min: 0, max: 3000 }), fill: fc.nat(255) }),
      fc.record({ release: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
        const pool = new SlabPool(4096, 2);
        const out: { view: Buffer; fill: number; size: number }[] = [];
        for (const s of steps) {
          if ('copy' in s)
            out.push({ view: pool.copy(message(s.copy, s.fill), s.copy), fill: s.fill, size: s.copy });
          else if (out.length > 0) pool.release(out.splice(s.release % out.length, 1)[0]!.view);
        }
        for (const { view, fill, size } of out) assert.deepEqual(view, message(size, fill));
      }),
      { numRuns: 300 },
    );
  });

  it('reuses a slab once all its messages are back, and makes new ones while they are out', () => {
    const pool = new SlabPool(1000, 4);
    const first = [pool.copy(message(400, 1), 400), pool.copy(message(400, 2), 400)];
    const third = pool.copy(message(400, 3), 400); // does not fit: a second slab
    assert.notEqual(third.buffer, first[0]!.buffer);
    for (const m of first) pool.release(m);
    const fourth = pool.copy(message(400, 4), 400);
    const fifth = pool.copy(message(400, 5), 400); // the second slab is full: the first comes back
    assert.equal(fifth.buffer, first[0]!.buffer);
    assert.deepEqual(third, message(400, 3));
    assert.deepEqual(fourth, message(400, 4));

    // a message still out keeps its slab from reuse
    const held = pool.copy(message(400, 6), 400);
    pool.copy(message(900, 7), 900);
    assert.deepEqual(held, message(400, 6));
  });

  it('refuses a message given back twice, and ignores one it did not hand out', () => {
    const pool = new SlabPool(1000);
    const m = pool.copy(message(10, 1), 10);
    pool.release(m);
    assert.throws(() => pool.release(m), /given back to its slab twice/);
    assert.doesNotThrow(() => pool.release(Buffer.alloc(10)));
  });

  it('refuses a late second release after the place was handed out again, and keeps the message now there', () => {
    const pool = new SlabPool(1000, 4);
    const old = pool.copy(message(400, 1), 400);
    pool.release(old);
    const now = pool.copy(message(700, 2), 700); // does not fit after it: the same slab, reused from the start
    assert.equal(now.buffer, old.buffer);
    assert.equal(now.byteOffset, old.byteOffset);
    assert.throws(() => pool.release(old), /given back to its slab twice/);
    pool.copy(message(400, 3), 400); // does not fit after it: a slab still holding `now` is not reused
    assert.deepEqual(now, message(700, 2));
  });

  it('copies a message larger than a slab into a slab of its own', () => {
    const pool = new SlabPool(100);
    const big = pool.copy(message(250, 9), 250);
    assert.deepEqual(big, message(250, 9));
    assert.equal(big.buffer.byteLength, 250);
  });
});
