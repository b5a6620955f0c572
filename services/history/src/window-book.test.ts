import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Periods, windowStartMs } from './aggregate.js';
import { WindowBook, type WindowEntry } from './window-book.js';

const MIN = Periods['1m'];
const HOUR = Periods['1h'];
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
const pointOf = (name: string) => ({
  unsSubject: `uns.v1.s.h.r.k.cdu.${name}.flow.coolant`,
  path: { site: 's', hall: 'h', row: 'r', rack: 'k', assetClass: 'cdu', asset: name },
  metric: 'flow.coolant',
  unit: 'L/min',
});

/** Per point, samples in event-time order with distinct times over a few hours: what ORDERED carries. */
const orderedSamples = fc
  .array(
    fc.record({
      point: fc.constantFrom('a', 'b', 'c'),
      gapMs: fc.integer({ min: 1, max: 400_000 }),
      value: fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
    }),
    { minLength: 1, maxLength: 300 },
  )
  .map((raw) => {
    let t = 1_800_000_000_000;
    return raw.map((r) => ({ point: r.point, value: r.value, timeMs: (t += r.gapMs) }));
  });

type S = { point: string; value: number; timeMs: number };

/** min/max/sum/count of each (point, window), computed directly. */
function direct(samples: S[], periodMs: number) {
  const out = new Map<string, { min: number; max: number; sum: number; count: number }>();
  for (const s of samples) {
    const key = `${s.point}@${windowStartMs(s.timeMs, periodMs)}`;
    const a = out.get(key);
    if (!a) out.set(key, { min: s.value, max: s.value, sum: s.value, count: 1 });
    else {
      a.min = Math.min(a.min, s.value);
      a.max = Math.max(a.max, s.value);
      a.sum += s.value;
      a.count++;
    }
  }
  return out;
}

function assertMatches(closed: WindowEntry[], expected: ReturnType<typeof direct>) {
  assert.equal(closed.length, expected.size);
  for (const e of closed) {
    const want = expected.get(`${e.path.asset}@${e.startMs}`);
    assert.ok(want, `unexpected window ${e.unsSubject}@${e.startMs}`);
    // === and not assert.equal (Object.is): a window of 0 and -0 has either as its min, both right
    assert.ok(e.agg.min === want.min, `min ${e.agg.min} vs ${want.min}`);
    assert.ok(e.agg.max === want.max, `max ${e.agg.max} vs ${want.max}`);
    assert.equal(e.agg.count, want.count);
    assert.ok(close(e.agg.sum, want.sum), `sum ${e.agg.sum} vs ${want.sum}`);
    assert.ok(close(e.agg.sum / e.agg.count, want.sum / want.count), 'avg');
  }
}

describe('rolling samples up into windows', () => {
  it('gives every window of any sample sequence the min, max, avg and count computed directly', () => {
    fc.assert(
      fc.property(orderedSamples, (samples) => {
        const book = new WindowBook(MIN);
        for (const s of samples) assert.equal(book.add(pointOf(s.point), s.value, s.timeMs), 'added');
        assertMatches(book.closeThrough(Number.MAX_SAFE_INTEGER).flat(), direct(samples, MIN));
        assert.equal(book.openWindows, 0);
      }),
    );
  });

  it('gives the same rollups when any samples arrive again later (redelivery, re-emission)', () => {
    fc.assert(
      fc.property(
        orderedSamples.chain((samples) =>
          fc.tuple(
            fc.constant(samples),
            fc.array(fc.tuple(fc.nat(samples.length - 1), fc.nat(samples.length)), { maxLength: 50 }),
          ),
        ),
        ([samples, repeats]) => {
          // each repeat copies sample i to a position after the original
          const stream: S[] = [...samples];
          for (const [i, at] of repeats) {
            const original = stream.indexOf(samples[i] as S);
            stream.splice(Math.max(original + 1, Math.min(at, stream.length)), 0, { ...(samples[i] as S) });
          }
          const book = new WindowBook(MIN);
          let repeated = 0;
          for (const s of stream) if (book.add(pointOf(s.point), s.value, s.timeMs) === 'repeat') repeated++;
          assert.equal(repeated, stream.length - samples.length);
          assertMatches(book.closeThrough(Number.MAX_SAFE_INTEGER).flat(), direct(samples, MIN));
        },
      ),
    );
  });

  it('makes the 1 h rollups from the 1 min rollups equal to 1 h rollups computed directly', () => {
    fc.assert(
      fc.property(orderedSamples, (samples) => {
        const minutes = new WindowBook(MIN);
        const hours = new WindowBook(HOUR);
        for (const s of samples) minutes.add(pointOf(s.point), s.value, s.timeMs);
        for (const e of minutes.closeThrough(Number.MAX_SAFE_INTEGER).flat()) hours.addAggregate(e, e.agg);
        assertMatches(hours.closeThrough(Number.MAX_SAFE_INTEGER).flat(), direct(samples, HOUR));
      }),
    );
  });

  it('closes only the windows the watermark has passed, oldest first, and calls later samples for them late', () => {
    const book = new WindowBook(MIN);
    const t0 = 1_800_000_000_000; // a minute boundary
    book.add(pointOf('a'), 1, t0 + 1000, 10);
    book.add(pointOf('a'), 2, t0 + MIN + 1000, 11);
    book.add(pointOf('b'), 3, t0 + 2 * MIN + 1000, 12);
    assert.equal(book.wouldClose(t0 + MIN - 1), false);
    assert.equal(book.minOpenSeq(), 10);
    const closed = book.closeThrough(t0 + 2 * MIN + 5000);
    assert.deepEqual(
      closed.map((w) => w.map((e) => e.startMs)),
      [[t0], [t0 + MIN]],
    );
    assert.equal(book.closedThroughMs, t0 + 2 * MIN);
    assert.equal(book.minOpenSeq(), 12, 'replaying from the open window rebuilds it');
    assert.equal(book.add(pointOf('a'), 9, t0 + MIN + 30_000, 13), 'late');
    assert.equal(book.add(pointOf('a'), 9, t0 + 2 * MIN, 13), 'added');
  });
});
