import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { busway, Long, org, SampleBatchWriter } from '@busway/proto';
import { decodePayload, metricsToSamples, SpType, type MetricDef } from './decoder.js';
import { NodeState } from './node-state.js';
import { ascii, mangledArb, payloadArb, plainNdataArb, smallU64 } from './payload-arbitraries.js';
import { ValueKind } from './points.js';
import { parseTopic } from './topic.js';
import { SparkplugTranscoder } from './transcoder.js';

const Payload = org.eclipse.tahu.protobuf.Payload;
const TOPIC = 'spBv1.0/g/NDATA/e';
const source = { protocol: 'sparkplug', sourceId: 'g/e', address: TOPIC };
const sourceField = busway.v1.SampleBatch.encode({ source }).finish();
const ingest = Long.fromString('1796010000123456789', true);
const now = Long.fromNumber(42, true);

/** Births: definitions by name and by alias, of scalar and other datatypes, some with a unit. */
const defsArb = fc.array(
  fc.record({
    name: fc.oneof(ascii, fc.constantFrom('bdSeq', 'Node Control/Rebirth')),
    alias: smallU64.map((a) => a.toNumber() % 8),
    datatype: fc.oneof(fc.constantFrom(3, 8, 9, 10, 11, 12), fc.nat(20)),
    unit: fc.constantFrom('', 'kW', 'Cel'),
  }),
  { maxLength: 8 },
);

/** A node with these births, as the bridge keeps it. */
function nodeWith(defs: (MetricDef & { alias: number })[]): NodeState {
  const dev = new NodeState('g/e');
  for (const { alias, ...def } of defs) {
    dev.byName.set(def.name, def);
    dev.byAlias.set(alias, def);
  }
  return dev;
}

/** The generated path: decode, map, encode, and the last values it leaves; or the reason it refuses. */
function generated(bytes: Uint8Array, dev: NodeState) {
  try {
    const { samples, skipped, points } = metricsToSamples(decodePayload(bytes), {
      topic: parseTopic(TOPIC),
      address: TOPIC,
      byAlias: dev.byAlias,
      byName: dev.byName,
      ingestTimeNs: ingest,
      points: dev.points,
    });
    samples.forEach((s, i) => points[i]?.last.remember(s));
    return { data: new SampleBatchWriter().encode({ samples, source }), samples: samples.length, skipped };
  } catch (err) {
    return (err as Error).message;
  }
}

/** Every point's STALE sample, as a death would send it. */
const staleOf = (dev: NodeState) =>
  [...dev.points.values()].filter((p) => p.last.kind !== ValueKind.None).map((p) => p.last.stale(p.id, now));

/** As the bridge reads a 64-bit field. */
const num = (v: Long | number | null | undefined) =>
  v == null ? 0 : typeof v === 'number' ? v : v.toNumber();

/**
 * The transcoder writes exactly the generated path's bytes and last values, or leaves the payload to it;
 * `plain`: a payload of scalars it must take whenever the generated path accepts it.
 */
function agrees(
  transcoder: SparkplugTranscoder,
  bytes: Uint8Array,
  defs: (MetricDef & { alias: number })[],
  plain = false,
) {
  const fastDev = nodeWith(defs);
  const fast = transcoder.transcode(bytes, fastDev, ingest, sourceField);
  const slowDev = nodeWith(defs);
  const slow = generated(bytes, slowDev);
  if (plain && typeof slow !== 'string') assert.ok(fast, 'a plain payload went to the generated path');
  if (!fast) return undefined;
  assert.notEqual(
    typeof slow,
    'string',
    `the transcoder took a payload the generated path refuses: ${String(slow)}`,
  );
  if (typeof slow === 'string') return undefined;
  assert.deepEqual(Buffer.from(fast.data), Buffer.from(slow.data));
  assert.equal(fast.samples, slow.samples);
  assert.equal(fast.skipped, slow.skipped);
  const payload = decodePayload(bytes);
  assert.equal(fast.timestamp, num(payload.timestamp));
  assert.equal(fast.seq, num(payload.seq));
  assert.deepEqual(staleOf(fastDev), staleOf(slowDev));
  return fast;
}

describe('Sparkplug transcoder (NDATA bytes to SampleBatch bytes)', () => {
  it('writes the bytes and keeps the last values the generated path does, on what edge nodes send', () => {
    const transcoder = new SparkplugTranscoder();
    let taken = 0;
    fc.assert(
      fc.property(plainNdataArb, defsArb, (payload, defs) => {
        if (agrees(transcoder, Payload.encode(payload).finish(), defs, true)) taken++;
      }),
      { numRuns: 1000 },
    );
    // the rest name an alias the random births do not define: the generated path refuses those
    assert.ok(taken >= 150, `the transcoder took only ${taken} of 1000 plain payloads`);
  });

  it('agrees with the generated path, or leaves it the payload, on any payload and on mangled bytes', () => {
    const transcoder = new SparkplugTranscoder();
    const any = payloadArb.map((p) => Buffer.from(Payload.encode(p).finish()));
    fc.assert(
      fc.property(fc.oneof(any, mangledArb, fc.uint8Array({ maxLength: 64 })), defsArb, (bytes, defs) => {
        agrees(transcoder, bytes, defs);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads names, aliases from a birth with its unit, nulls and flags; and leaves unknown aliases alone', () => {
    const transcoder = new SparkplugTranscoder();
    const defs = [{ name: 'Inlet/Temp', alias: 3, datatype: SpType.Float, unit: 'Cel' }];
    const ts = Long.fromNumber(1_796_000_000_000, true);
    const bytes = Payload.encode({
      timestamp: ts,
      seq: Long.fromNumber(9, true),
      metrics: [
        { alias: Long.fromNumber(3, true), floatValue: 21.5 },
        { name: 'Power', datatype: SpType.Double, doubleValue: 1200, isHistorical: true },
        { name: 'Fan', datatype: SpType.Int16, intValue: 0xffff, timestamp: Long.fromNumber(5, true) },
        { name: 'Door', datatype: SpType.Boolean, isNull: true },
        { name: 'Blob', datatype: SpType.Bytes }, // not telemetry: skipped, counted
      ],
    }).finish();
    const fast = agrees(transcoder, bytes, defs);
    assert.ok(fast);
    assert.equal(fast.samples, 4);
    assert.equal(fast.skipped, 1);
    assert.equal(fast.seq, 9);
    const [temp, power, fan, door] = busway.v1.SampleBatch.decode(fast.data).samples;
    assert.equal(temp?.pointId, 'sparkplug:g/e:Inlet/Temp');
    assert.equal(temp?.unit, 'Cel');
    assert.equal(temp?.doubleValue, 21.5);
    assert.deepEqual(power?.flags, ['historical']);
    assert.equal(Long.fromValue(fan?.intValue ?? 0).toNumber(), -1); // Int16 two's complement
    assert.equal(Long.fromValue(fan?.eventTimeNs ?? 0).toNumber(), 5_000_000);
    assert.equal(door?.quality, busway.v1.Quality.QUALITY_BAD);
    assert.deepEqual(door?.flags, ['null']);
    // a value's identity is its time in ms, a null's in ns: a null never passes for a value's duplicate
    assert.equal(Long.fromValue(temp?.sequence ?? 0).toString(), ts.toString());
    assert.equal(Long.fromValue(door?.sequence ?? 0).toString(), ts.multiply(1_000_000).toString());

    const unknown = Payload.encode({
      metrics: [{ alias: Long.fromNumber(4, true), floatValue: 1 }],
    }).finish();
    assert.equal(transcoder.transcode(unknown, nodeWith(defs), ingest, sourceField), undefined);
    assert.match(String(generated(unknown, nodeWith(defs))), /unknown alias 4/);
  });

  it('leaves a name that is not ASCII to the generated path, which reads it as UTF-8', () => {
    const transcoder = new SparkplugTranscoder();
    const bytes = Payload.encode({
      metrics: [{ name: 'Zone é/Temp', datatype: SpType.Double, doubleValue: 21 }],
    }).finish();
    assert.equal(transcoder.transcode(bytes, nodeWith([]), ingest, sourceField), undefined);
    const slow = generated(bytes, nodeWith([]));
    assert.ok(typeof slow !== 'string', slow as string);
    assert.equal(busway.v1.SampleBatch.decode(slow.data).samples[0]?.pointId, 'sparkplug:g/e:Zone é/Temp');
  });

  it('keeps a point last value only once its whole message is read', () => {
    const transcoder = new SparkplugTranscoder();
    const dev = nodeWith([]);
    const first = Payload.encode({
      metrics: [{ name: 'a', datatype: SpType.Double, doubleValue: 1 }],
    }).finish();
    assert.ok(transcoder.transcode(first, dev, ingest, sourceField));
    // the same point, then an alias no birth defined: the message goes to the generated path, which refuses it
    const refused = Payload.encode({
      metrics: [
        { name: 'a', datatype: SpType.Double, doubleValue: 2 },
        { alias: Long.fromNumber(1, true), doubleValue: 3 },
      ],
    }).finish();
    assert.equal(transcoder.transcode(refused, dev, ingest, sourceField), undefined);
    assert.deepEqual(
      staleOf(dev).map((s) => s.doubleValue),
      [1],
    );
  });
});
