import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PendingQueue } from './pending-queue.js';

const entry = (n: number, bytes = 10) => ({ n, bytes });

describe('the bounded queue of batches waiting for JetStream', () => {
  it('drops the oldest waiting batches past the bound, never the newest nor the one in flight', () => {
    const q = new PendingQueue<{ n: number; bytes: number }>(30);
    assert.deepEqual(q.push(entry(1)), []);
    assert.equal(q.take()?.n, 1);
    assert.deepEqual(q.push(entry(2)), []);
    assert.deepEqual(q.push(entry(3)), []);
    assert.deepEqual(
      q.push(entry(4)).map((e) => e.n),
      [2],
      '1 is in flight: 2 is the oldest waiting',
    );
    assert.equal(q.bytes, 30);
    assert.deepEqual(
      q.push(entry(5, 100)).map((e) => e.n),
      [3, 4],
      'a batch bigger than the bound is kept alone',
    );
    assert.equal(q.length, 2);
  });

  it('stays within its bound plus the newest and the in-flight batch, and accounts every byte (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.oneof(fc.integer({ min: 1, max: 200 }), fc.constant(0)), { maxLength: 200 }),
        (limit, ops) => {
          const q = new PendingQueue<{ n: number; bytes: number }>(limit);
          let pushed = 0;
          let dropped = 0;
          let delivered = 0;
          let inFlight: { n: number; bytes: number } | undefined;
          ops.forEach((op, n) => {
            if (op === 0) {
              if (inFlight) {
                q.done(inFlight);
                delivered += inFlight.bytes;
              }
              inFlight = q.take();
              return;
            }
            pushed += op;
            const out = q.push(entry(n, op));
            dropped += out.reduce((s, e) => s + e.bytes, 0);
            assert.ok(out.every((e) => e !== inFlight && e.n !== n));
            assert.ok(q.bytes <= Math.max(limit, op + (inFlight?.bytes ?? 0)));
          });
          assert.equal(q.bytes, pushed - dropped - delivered);
        },
      ),
    );
  });

  it('clears what waits, keeping the batch in flight', () => {
    const q = new PendingQueue<{ n: number; bytes: number }>(100);
    q.push(entry(1));
    q.push(entry(2));
    const taken = q.take();
    q.push(entry(3));
    assert.deepEqual(
      q.clear().map((e) => e.n),
      [2, 3],
    );
    assert.equal(q.bytes, 10);
    if (taken) q.done(taken);
    assert.equal(q.bytes, 0);
  });
});
