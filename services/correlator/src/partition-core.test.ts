import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busway, EventTypes, timeNsFromMs } from '@busway/proto';
import { parseSiteModel, Registry } from '@busway/registry';
import { CorrelationEngine } from './engine.js';
import { PartitionCore, type InputMessage } from './partition-core.js';
import { loadRules } from './rules.js';
import { Topology } from './topology.js';

const T = 1_800_000_000_000;
const registry = new Registry(
  parseSiteModel({
    site: 'ai1',
    assets: [{ id: 'rack-1', class: 'rack', hall: 'h1', row: 'r1', rack: 'rack-1' }],
  }),
  1,
);
const SUBJECT = 'norm.v1.samples.ai1.h1.r1.rack-1';

function core(): PartitionCore {
  const topo = new Topology(registry);
  return new PartitionCore(
    {
      outOfOrdernessMs: 1000,
      allowedLatenessMs: 0,
      idleTimeoutMs: 3000,
      maxSourceLagMs: 30_000,
      emitSlotMs: 10,
      dedupDepth: 8,
      maxKeys: 1000,
      maxBuffered: 10_000,
      partition: 0,
      partitionCount: 1,
      partitionBy: 'row',
      ackWaitMs: 5000,
    },
    new CorrelationEngine(loadRules(), () => topo, 'ai1'),
    1,
  );
}

/** One NORM message of one sample per second of event time `i`. */
const msg = (i: number, extra: Partial<InputMessage> = {}): [InputMessage, Uint8Array] => [
  { input: 0, seq: i + 1, subject: SUBJECT, type: EventTypes.SampleBatch, ...extra },
  busway.v1.SampleBatch.encode({
    samples: [
      { pointId: 'p', metric: 'power.active', doubleValue: i, eventTimeNs: timeNsFromMs(T + i * 1000) },
    ],
  }).finish(),
];

const released = (c: PartitionCore, nowMs: number) =>
  c.flush(nowMs).ordered.flatMap((b) => b.items.map((r) => Number(r.sample.doubleValue)));

describe('a partition core', () => {
  it('holds the watermark while deliveries a failed pull lost are still to come back', () => {
    const c = core();
    const out: number[] = [];
    for (const i of [0, 1, 2]) {
      c.ingest(...msg(i, { delivery: i + 1 }), T + i * 1000);
      out.push(...released(c, T + i * 1000));
    }
    // deliveries 4 and 5 (samples 3 and 4) were lost with a failed pull; 6.. arrive
    for (const i of [5, 6, 7]) {
      c.ingest(...msg(i, { delivery: i + 1 }), T + i * 1000);
      out.push(...released(c, T + i * 1000));
    }
    assert.equal(c.checkpointable(T + 7000), false, 'no checkpoint while deliveries are missing');
    assert.deepEqual(out, [0], 'nothing leaves while the gap is open');
    for (const i of [3, 4]) c.ingest(...msg(i, { delivery: 6 + i, redelivered: true }), T + 8000);
    out.push(...released(c, T + 8000));
    assert.deepEqual(out, [0, 1, 2, 3, 4, 5], 'once redelivered, in order and not late');
    assert.equal(c.checkpointable(T + 8000), true);
  });

  it('never emits a message twice that JetStream delivers again after its samples left, dedup or not', () => {
    const c = core();
    let emitted = 0;
    for (let i = 0; i < 20; i++) {
      c.ingest(...msg(i, { delivery: i + 1 }), T + i * 1000);
      emitted += released(c, T + i * 1000).length;
    }
    // the ack of message 1 was lost with a NATS node: it comes back long after its sample left, and after the
    // point's dedup memory (8 identities here) forgot it
    const again = c.ingest(...msg(0, { delivery: 21, redelivered: true }), T + 20_000);
    const out = c.flush(T + 20_000);
    assert.equal(again.kind, 'redelivered');
    assert.deepEqual([out.late.length, out.ordered.flatMap((b) => b.items).length], [0, 0]);
    assert.ok(emitted > 0);
    assert.equal(c.stats.redeliveredSkipped, 1);
    // the skipped delivery still counts: the next one is no gap, and the watermark goes on
    c.ingest(...msg(20, { delivery: 22 }), T + 21_000);
    assert.equal(c.checkpointable(T + 21_000), true, 'no delivery taken for lost');
    const after = released(c, T + 25_000);
    assert.equal(after.at(-1), 20, 'the watermark went on past the next message');
  });

  it("counts every message whose partition suffix disagrees with this core's, and routes it by its rack", () => {
    const c = core(); // one partition: every rack's suffix is 0
    for (const [i, suffix] of [
      [0, 1],
      [1, 1],
      [2, 0],
    ] as const)
      c.ingest(...msg(i, { subject: `${SUBJECT}.${suffix}` }), T + i * 1000);
    assert.equal(c.stats.mismatched, 2, 'each mismatched message counted, the subject seen before too');
    const out = c.flush(T + 10_000);
    assert.deepEqual(
      new Set(out.ordered.map((b) => b.subject)),
      new Set(['ordered.v1.samples.ai1.h1.r1.rack-1']),
    );
  });

  it('does not call quiet sources idle while the stream still holds messages for it', () => {
    const c = core();
    c.ingest(...msg(0, { pending: 500 }), T);
    c.ingest(...msg(5, { pending: 499 }), T + 5001);
    assert.deepEqual(released(c, T + 60_000), [0], 'behind: silence is the reader, not the source');
    c.ingest(...msg(6, { pending: 0 }), T + 60_001);
    assert.deepEqual(released(c, T + 70_000), [5, 6], 'caught up and quiet: everything leaves');
  });

  it('does not call sources idle while what waits for its input is unknown, only once nothing does', () => {
    const c = core();
    c.ingest(...msg(0, { pending: 0 }), T);
    c.ingest(...msg(5, { pending: 0 }), T + 5001);
    c.setBacklog(0, Number.POSITIVE_INFINITY); // a pull failed: the reader may be stalled
    assert.deepEqual(
      released(c, T + 60_000),
      [0],
      'silence after a failed pull is the reader, not the source',
    );
    c.setBacklog(0, 12); // the consumer says 12 messages wait
    assert.deepEqual(released(c, T + 61_000), []);
    c.setBacklog(0, 0); // a pull came back empty: quiet for real
    assert.deepEqual(released(c, T + 62_000), [5]);
  });

  it('keeps a restored watermark still until the replay reached the checkpoint', () => {
    const a = core();
    for (const i of [0, 1, 2, 3]) {
      a.ingest(...msg(i), T + i * 1000);
      a.flush(T + i * 1000);
    }
    const saved = a.checkpoint(T + 3000);
    assert.deepEqual(
      saved.inputs,
      [{ processedSeq: 4, replayFrom: 3 }],
      'samples 2 and 3 were still buffered',
    );
    const b = core();
    b.restore(JSON.parse(JSON.stringify(saved)) as typeof saved, T + 60_000);
    assert.deepEqual(released(b, T + 61_000), [], 'the wall clock alone moves nothing before the replay');
    b.ingest(...msg(2), T + 62_000);
    b.ingest(...msg(3), T + 62_000);
    b.ingest(...msg(4), T + 62_000);
    assert.deepEqual(released(b, T + 70_000), [2, 3, 4], 'the buffered samples come back, none twice');
    assert.deepEqual(
      [b.stats.samplesReplayed, b.stats.samplesIn],
      [2, 1],
      'the replayed samples are counted apart: the process before took them in',
    );
  });
});
