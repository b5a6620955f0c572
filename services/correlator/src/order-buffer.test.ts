import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OrderBuffer } from './order-buffer.js';

const opts = { outOfOrdernessMs: 2000, idleTimeoutMs: 3000, dedupCapacity: 10_000, maxBuffered: 100_000 };

describe('event-time ordering', () => {
  it('emits any shuffle within the out-of-orderness bound sorted, without loss, and drops repeats', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60_000 }), { minLength: 1, maxLength: 300 }),
        fc.array(fc.integer({ min: 0, max: 1999 }), { minLength: 300, maxLength: 300 }),
        fc.array(fc.boolean(), { minLength: 300, maxLength: 300 }),
        (times, delays, repeats) => {
          const events = [...new Set(times)].sort((a, b) => a - b);
          // arrival order: event time plus a delay below the bound, some delivered twice
          const arrivals = events.flatMap((t, i) => {
            const at = t + (delays[i % delays.length] ?? 0);
            return repeats[i % repeats.length]
              ? [
                  { t, at },
                  { t, at: at + 1 },
                ]
              : [{ t, at }];
          });
          arrivals.sort((a, b) => a.at - b.at);
          const buf = new OrderBuffer<number>(opts);
          const out: number[] = [];
          let late = 0;
          for (const a of arrivals) {
            if (buf.push(a.t, a.t, `k${a.t}`, a.at) === 'late') late++;
            out.push(...buf.drain(a.at).map((e) => e.item));
          }
          out.push(...buf.drainAll().map((e) => e.item));
          assert.equal(late, 0, 'nothing is late within the bound');
          assert.deepEqual(out, events, 'every event once, in event-time order');
        },
      ),
    );
  });

  it('calls an item late when output has already passed its time', () => {
    const buf = new OrderBuffer<string>(opts);
    buf.push('a', 10_000, 'a', 0);
    buf.push('b', 20_000, 'b', 0);
    assert.deepEqual(
      buf.drain(1).map((e) => e.item),
      ['a'],
    );
    assert.equal(buf.push('old', 5_000, 'old', 2), 'late');
  });

  it('moves the watermark with the wall clock when input goes idle', () => {
    const buf = new OrderBuffer<string>(opts);
    buf.push('only', 1_000_000, 'only', 1_000_000);
    assert.deepEqual(buf.drain(1_000_500), [], 'held within the bound while input is live');
    assert.deepEqual(
      buf.drain(1_003_500).map((e) => e.item),
      ['only'],
      'released once idle',
    );
  });

  it('stays bounded: beyond maxBuffered the oldest leave early and are counted', () => {
    const buf = new OrderBuffer<number>({ ...opts, maxBuffered: 10 });
    for (let i = 0; i < 50; i++) buf.push(i, 1_000_000 + i, `k${i}`, 0);
    const out = buf.drain(0);
    assert.equal(buf.size, 10);
    assert.equal(out.length, 40);
    assert.equal(buf.forced, 40);
  });
});
