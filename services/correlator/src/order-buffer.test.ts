import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OrderBuffer, type OrderBufferOptions, type Orderable, type WatermarkScope } from './order-buffer.js';

const base: OrderBufferOptions = {
  outOfOrdernessMs: 2000,
  allowedLatenessMs: 0,
  idleTimeoutMs: 3000,
  maxSourceLagMs: 60_000,
  emitSlotMs: 10,
  dedupDepth: 16,
  maxKeys: 10_000,
  maxBuffered: 100_000,
};

interface Item extends Orderable {
  id: number;
}

/** Items of a few points on a few sources, each source sampling every `periodMs`, as a plant does. */
const plant = fc
  .record({
    sources: fc.integer({ min: 1, max: 4 }),
    keysPerSource: fc.integer({ min: 1, max: 3 }),
    periodMs: fc.constantFrom(100, 200, 250, 1000),
    steps: fc.integer({ min: 5, max: 60 }),
    offsetMs: fc.integer({ min: 0, max: 999 }),
  })
  .map(({ sources, keysPerSource, periodMs, steps, offsetMs }) => {
    const items: Item[] = [];
    let id = 0;
    for (let s = 0; s < sources; s++)
      for (let k = 0; k < keysPerSource; k++)
        for (let i = 0; i < steps; i++)
          items.push({
            id: id++,
            t: 1_800_000_000_000 + offsetMs + i * periodMs + s * 7 + k,
            key: `s${s}k${k}`,
            seq: i,
            source: `rack-${s}`,
          });
    return items;
  });

interface Arrival {
  item: Item;
  atMs: number;
}

/** Runs arrivals through a buffer in arrival order, draining after each; the rest leaves once all is idle. */
function run(arrivals: Arrival[], o: OrderBufferOptions) {
  const buf = new OrderBuffer<Item>(o);
  const emitted: Item[] = [];
  const late: Item[] = [];
  const marks: number[] = [];
  let duplicates = 0;
  const sorted = [...arrivals].sort((a, b) => a.atMs - b.atMs);
  for (const a of sorted) {
    const r = buf.push(a.item, a.atMs);
    if (r === 'late') late.push(a.item);
    if (r === 'late-accepted') emitted.push(a.item);
    if (r === 'duplicate') duplicates++;
    for (const slot of buf.drain(a.atMs)) emitted.push(...slot.items);
    marks.push(buf.emittedWatermarkMs);
  }
  const end = (sorted.at(-1)?.atMs ?? 0) + o.idleTimeoutMs;
  for (const slot of buf.drain(end)) emitted.push(...slot.items);
  marks.push(buf.emittedWatermarkMs);
  return { emitted, late, marks, duplicates: duplicates + 0, buf };
}

function perKeyOrdered(items: Item[]): boolean {
  const last = new Map<string, number>();
  for (const it of items) {
    if ((last.get(it.key) ?? Number.NEGATIVE_INFINITY) >= it.t) return false;
    last.set(it.key, it.t);
  }
  return true;
}

for (const watermarkScope of ['partition', 'source'] as WatermarkScope[])
  describe(`event-time ordering, watermarks per ${watermarkScope}`, () => {
    const opts: OrderBufferOptions = { ...base, watermarkScope };

    it('emits any arrival order within the out-of-orderness bound in event-time order per key, each item once', () => {
      fc.assert(
        fc.property(
          plant,
          fc.infiniteStream(fc.integer({ min: 0, max: opts.outOfOrdernessMs })),
          (items, delays) => {
            const it = delays[Symbol.iterator]();
            const arrivals = items.map((item) => ({ item, atMs: item.t + (it.next().value as number) }));
            const { emitted, late } = run(arrivals, opts);
            assert.deepEqual(late, [], 'nothing is late within the bound');
            assert.ok(perKeyOrdered(emitted), 'per-key event-time order');
            assert.deepEqual(
              emitted.map((i) => i.id).sort((a, b) => a - b),
              items.map((i) => i.id).sort((a, b) => a - b),
              'every item exactly once',
            );
            for (let i = 1; i < emitted.length; i++)
              assert.ok(
                Math.floor((emitted[i] as Item).t / 10) >= Math.floor((emitted[i - 1] as Item).t / 10),
                'slots leave in time order',
              );
          },
        ),
      );
    });

    it('emits a repeated sample once, whether the repeat arrives before or after the original leaves', () => {
      fc.assert(
        fc.property(
          plant,
          fc.infiniteStream(fc.integer({ min: 0, max: opts.outOfOrdernessMs })),
          fc.infiniteStream(fc.integer({ min: 0, max: 4000 })),
          fc.infiniteStream(fc.boolean()),
          (items, delays, repeatDelays, repeated) => {
            const d = delays[Symbol.iterator]();
            const rd = repeatDelays[Symbol.iterator]();
            const r = repeated[Symbol.iterator]();
            const arrivals = items.flatMap((item) => {
              const atMs = item.t + (d.next().value as number);
              return r.next().value
                ? [
                    { item, atMs },
                    { item: { ...item, id: -item.id - 1 }, atMs: atMs + (rd.next().value as number) },
                  ]
                : [{ item, atMs }];
            });
            const { emitted, late } = run(arrivals, opts);
            assert.equal(emitted.length, items.length, 'each sample emitted once');
            assert.ok(perKeyOrdered(emitted));
            assert.ok(
              late.every((i) => i.id < 0),
              'only a repeat the dedup memory had forgotten can be late, never an original',
            );
            const remembered = run(arrivals, { ...opts, dedupDepth: 256 });
            assert.deepEqual(remembered.late, [], 'while remembered, a repeat is removed, not called late');
            assert.equal(remembered.emitted.length, items.length);
          },
        ),
      );
    });

    it('sends a sample later than the bound to the late output, and never moves the watermark back', () => {
      fc.assert(
        fc.property(
          plant,
          fc.infiniteStream(fc.integer({ min: 0, max: 10_000 })),
          fc.integer({ min: 0, max: 1500 }),
          (items, delays, allowedLatenessMs) => {
            const d = delays[Symbol.iterator]();
            const arrivals = items.map((item) => ({ item, atMs: item.t + (d.next().value as number) }));
            const o = { ...opts, allowedLatenessMs };
            const { emitted, late, marks } = run(arrivals, o);
            for (let i = 1; i < marks.length; i++)
              assert.ok((marks[i] as number) >= (marks[i - 1] as number));
            assert.equal(emitted.length + late.length, items.length, 'every sample once: ordered or late');
            if (allowedLatenessMs === 0)
              assert.ok(perKeyOrdered(emitted), 'without lateness, order is strict');
          },
        ),
      );
    });

    it('calls a sample late when output has passed its time, and re-emits it within the allowed lateness', () => {
      const mk = (id: number, t: number): Item => ({ id, t, key: `k${id}`, seq: 0, source: 'rack-a' });
      const buf = new OrderBuffer<Item>({ ...opts, allowedLatenessMs: 500 });
      buf.push(mk(1, 10_000), 10_000);
      buf.push(mk(2, 20_000), 20_000);
      assert.deepEqual(
        buf.drain(20_000).flatMap((s) => s.items.map((i) => i.id)),
        [1],
      );
      assert.equal(buf.emittedWatermarkMs, 18_000);
      assert.equal(buf.push(mk(3, 17_700), 20_001), 'late-accepted');
      assert.equal(buf.push(mk(4, 17_000), 20_002), 'late');
      assert.equal(buf.push(mk(3, 17_700), 20_003), 'duplicate');
    });

    it('stays bounded: beyond maxBuffered the oldest slots leave early and are counted', () => {
      const buf = new OrderBuffer<Item>({ ...opts, maxBuffered: 10 });
      for (let i = 0; i < 50; i++)
        buf.push({ id: i, t: 1_000_000 + i * 10, key: `k${i}`, seq: 0, source: 's' }, 0);
      const out = buf.drain(0).flatMap((s) => s.items);
      assert.equal(buf.size, 10);
      assert.equal(out.length, 40);
      assert.equal(buf.forced, 40);
      assert.ok(perKeyOrdered(out));
    });

    it('puts back, after a restore, what the checkpoint had not released and skips what it had', () => {
      const T = 1_800_000_000_000;
      const items: Item[] = Array.from({ length: 40 }, (_, i) => ({
        id: i,
        t: T + i * 100,
        key: 'p',
        seq: i,
        source: 'rack',
      }));
      const a = new OrderBuffer<Item>(opts);
      const before: number[] = [];
      for (const it of items.slice(0, 30)) {
        a.push(it, it.t);
        before.push(...a.drain(it.t).flatMap((s) => s.items.map((x) => x.id)));
      }
      const state = JSON.parse(JSON.stringify(a.snapshot())) as ReturnType<typeof a.snapshot>;
      const b = new OrderBuffer<Item>(opts);
      b.restore(state, T + 3000);
      const after: number[] = [];
      for (const it of items.slice(0, 30)) b.replay(it, T + 3000); // the input since the checkpoint's low-water mark
      for (const it of items.slice(30)) {
        b.push(it, it.t);
        after.push(...b.drain(it.t).flatMap((s) => s.items.map((x) => x.id)));
      }
      after.push(...b.drain(T + 20_000).flatMap((s) => s.items.map((x) => x.id)));
      assert.deepEqual(
        [...before, ...after],
        items.map((i) => i.id),
        'nothing lost, nothing twice',
      );
    });
  });

describe('a released slot', () => {
  it('is sorted by event time with ties in arrival order, at any epoch and with fractional times', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1_000_000.5, 1_800_000_000_000, 2 ** 41 + 0.25),
        fc.array(fc.integer({ min: 0, max: 40_959 }), { minLength: 2, maxLength: 300 }),
        fc.boolean(),
        (epoch, steps, fractional) => {
          const start = Math.floor(epoch / 10) * 10;
          const items: Item[] = steps.map((step, id) => ({
            id,
            t: start + (fractional ? step / 4096 + 1e-7 : step / 4096),
            key: `k${id}`,
            seq: 0,
            source: 'rack',
          }));
          const buf = new OrderBuffer<Item>({ ...base, dedupDepth: 1 });
          for (const it of items) buf.push(it, 0);
          const out = buf.drainAll().flatMap((s) => s.items.map((x) => x.id));
          const expected = [...items].sort((a, b) => a.t - b.t || a.id - b.id).map((x) => x.id);
          assert.deepEqual(out, expected);
        },
      ),
    );
  });
});

describe('watermarks per source', () => {
  const opts: OrderBufferOptions = { ...base, watermarkScope: 'source' };

  it('holds output for a lagging source until it goes idle, then lets the others through', () => {
    const buf = new OrderBuffer<Item>(opts);
    const T = 1_800_000_000_000;
    const out: number[] = [];
    for (let i = 1; i <= 50; i++) {
      const t = T + i * 100;
      // a source running 1.5 s behind speaks once, then falls silent
      if (i === 15) buf.push({ id: 0, t: T, key: 'slow', seq: 0, source: 'rack-slow' }, t);
      buf.push({ id: i, t, key: 'busy', seq: i, source: 'rack-busy' }, t);
      out.push(...buf.drain(t).flatMap((s) => s.items.map((x) => x.t)));
      if (i === 40)
        assert.ok(Math.max(...out) < T + 510, 'held back by the lagging source while it may speak');
    }
    assert.ok(out.includes(T + 2900), 'once it is idle, the busy source alone sets the watermark');
    assert.ok(!out.includes(T + 3100), 'and the bound still holds for the busy one');
    assert.ok(out.includes(T), "the slow source's sample left in order");
  });
});

describe('watermarks per partition', () => {
  const opts: OrderBufferOptions = { ...base, watermarkScope: 'partition' };
  const T = 1_800_000_000_000;

  it('releases a slot once the newest event time is a bound past it, whichever source holds the oldest', () => {
    const buf = new OrderBuffer<Item>(opts);
    // rack-b's newest is 150 ms behind rack-a's: per partition it does not hold anything back
    buf.push({ id: 1, t: T, key: 'a', seq: 1, source: 'rack-a' }, T);
    buf.push({ id: 2, t: T + 1850, key: 'b', seq: 1, source: 'rack-b' }, T + 1850);
    buf.push({ id: 3, t: T + 2000, key: 'a', seq: 2, source: 'rack-a' }, T + 2000);
    assert.deepEqual(
      [],
      buf.drain(T + 2000).flatMap((s) => s.items.map((x) => x.id)),
      'slot T ends at T + 10',
    );
    buf.push({ id: 4, t: T + 2010, key: 'a', seq: 3, source: 'rack-a' }, T + 2010);
    assert.deepEqual(
      buf.drain(T + 2010).flatMap((s) => s.items.map((x) => x.id)),
      [1],
    );
    assert.equal(buf.emittedWatermarkMs, T + 10);
  });

  it('turns late what lags the newest by more than the bound, from any source', () => {
    const buf = new OrderBuffer<Item>(opts);
    buf.push({ id: 1, t: T + 5000, key: 'a', seq: 1, source: 'rack-a' }, T + 5000);
    buf.drain(T + 5000);
    assert.equal(buf.push({ id: 2, t: T + 2999, key: 'b', seq: 1, source: 'rack-b' }, T + 5001), 'late');
    assert.equal(buf.push({ id: 3, t: T + 3000, key: 'b', seq: 2, source: 'rack-b' }, T + 5001), 'buffered');
  });

  it('does not let a source whose clock runs ahead move the watermark past the wall clock', () => {
    const buf = new OrderBuffer<Item>(opts);
    buf.push({ id: 1, t: T + 60_000, key: 'fast', seq: 1, source: 'rack-fast' }, T);
    buf.drain(T);
    assert.equal(buf.emittedWatermarkMs, T - 2000, 'the wall clock at arrival less the bound');
    assert.equal(buf.push({ id: 2, t: T - 100, key: 'a', seq: 1, source: 'rack-a' }, T), 'buffered');
  });

  it('ignores job and grid events (sparse) for the watermark, and releases everything once input stops', () => {
    const buf = new OrderBuffer<Item>(opts);
    buf.push({ id: 1, t: T, key: 'a', seq: 1, source: 'rack-a' }, T);
    buf.push({ id: 2, t: T + 9000, key: 'event|j', seq: 0, source: 'jobs', sparse: true }, T + 9000);
    assert.deepEqual(
      buf.drain(T + 1000).flatMap((s) => s.items),
      [],
      'an event does not move it',
    );
    const all = buf.drain(T + opts.idleTimeoutMs).flatMap((s) => s.items.map((x) => x.id));
    assert.deepEqual(all, [1, 2], 'no dense input for idleTimeoutMs: the partition is idle');
    const behind = new OrderBuffer<Item>(opts);
    behind.push({ id: 1, t: T, key: 'a', seq: 1, source: 'rack-a' }, T);
    assert.equal(
      behind.watermark(T + 60_000, true),
      T - 2000,
      'silence while the input is behind is not idleness',
    );
  });

  it('lets an idle release out ahead of the samples, yet not make the samples held through an outage late', () => {
    const buf = new OrderBuffer<Item>(opts);
    buf.push({ id: 1, t: T, key: 'a', seq: 1, source: 'rack-a' }, T);
    // the outage: a job event stamped during it comes first, then an idle release lets everything out
    buf.push({ id: 2, t: T + 9000, key: 'event|j', seq: 0, source: 'jobs', sparse: true }, T + 9500);
    const idle = buf.drain(T + 9500).flatMap((s) => s.items.map((x) => x.id));
    assert.deepEqual(idle, [1, 2]);
    assert.equal(buf.emittedWatermarkMs, T + 9010, 'released through the event');
    // the samples held upstream through the outage, older than the event
    assert.equal(buf.push({ id: 3, t: T + 100, key: 'a', seq: 2, source: 'rack-a' }, T + 10_000), 'buffered');
    assert.equal(
      buf.push({ id: 4, t: T + 8000, key: 'b', seq: 1, source: 'rack-b' }, T + 10_000),
      'buffered',
    );
    assert.equal(buf.push({ id: 5, t: T + 50, key: 'a', seq: 3, source: 'rack-a' }, T + 10_000), 'buffered');
    assert.equal(buf.push({ id: 6, t: T, key: 'a', seq: 1, source: 'rack-a' }, T + 10_000), 'duplicate');
    const after = buf.drain(T + 20_000).flatMap((s) => s.items.map((x) => x.id));
    assert.deepEqual(after, [5, 3, 4]);
  });

  it('keeps each point in event-time order after an idle release let out a sample stamped ahead', () => {
    const buf = new OrderBuffer<Item>(opts);
    buf.push({ id: 1, t: T + 60_000, key: 'fast', seq: 1, source: 'rack-fast' }, T);
    assert.deepEqual(
      buf.drain(T + opts.idleTimeoutMs).flatMap((s) => s.items.map((x) => x.id)),
      [1],
      'idle: out',
    );
    // another point is not held to the fast one's time; the fast point is, to keep its own order
    assert.equal(
      buf.push({ id: 2, t: T + 5000, key: 'slow', seq: 1, source: 'rack-a' }, T + 5000),
      'buffered',
    );
    assert.equal(
      buf.push({ id: 3, t: T + 5000, key: 'fast', seq: 2, source: 'rack-fast' }, T + 5000),
      'late',
    );
    assert.equal(
      buf.push({ id: 4, t: T + 61_000, key: 'fast', seq: 3, source: 'rack-fast' }, T + 5000),
      'buffered',
    );
  });
});
