import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { busway, Long, msFromTimeNs } from '@busway/proto';
import { EngineFieldReader } from './engine-fields.js';
import { NormBatchScanner, PositionMemo } from './norm-scanner.js';
import { RawBatchWriter, RawSample } from './raw-sample.js';

const name = fc.constantFrom(
  '',
  'p',
  'sparkplug:g/e:Rack 1/Power',
  'power.active',
  'flow.coolant',
  'é-ü',
  'cdu-1',
);
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => Long.fromString(v.toString(), true));
const sampleArb: fc.Arbitrary<busway.v1.ISample> = fc.record(
  {
    pointId: name,
    path: fc.record({ site: name, rack: name, assetClass: name, asset: name }, { requiredKeys: [] }),
    metric: name,
    doubleValue: fc.double(),
    intValue: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => Long.fromString(v.toString())),
    stringValue: name,
    unit: name,
    eventTimeNs: u64,
    sequence: u64,
    quality: fc.nat(4),
    flags: fc.array(name, { maxLength: 2 }),
  },
  { requiredKeys: [] },
);
const batchArb = fc
  .array(sampleArb, { maxLength: 6 })
  .map((samples) => busway.v1.SampleBatch.encode({ samples, source: { protocol: 'x' } }).finish());
/** A valid batch with one byte changed, or cut short there. */
const brokenArb = fc.tuple(batchArb, fc.nat(), fc.nat(255), fc.boolean()).map(([bytes, at, value, cut]) => {
  const i = bytes.length === 0 ? 0 : at % bytes.length;
  if (cut) return bytes.slice(0, i);
  const copy = Uint8Array.from(bytes);
  copy[i] = value;
  return copy;
});

const watches = (metric: string) => metric.startsWith('p');
const json = (s: busway.v1.ISample) => busway.v1.Sample.fromObject(s).toJSON();

/** What the generated decoder makes of the bytes, or the error it throws. */
function decoded(data: Uint8Array): busway.v1.SampleBatch | Error {
  try {
    return busway.v1.SampleBatch.decode(data);
  } catch (err) {
    return err as Error;
  }
}

/**
 * The scanner reads `data` as the generated decoder does, and its samples' bytes are the same samples. `memo`
 * is shared by every batch of a property: what earlier batches held at a position is right or wrong for this one.
 */
function assertSameReading(scanner: NormBatchScanner, data: Uint8Array, memo: PositionMemo): void {
  const expected = decoded(data);
  let raws: RawSample[];
  try {
    raws = scanner.scan(data, (f) => new RawSample(f), memo);
  } catch (err) {
    assert.ok(expected instanceof Error, `the scanner threw on bytes the decoder reads: ${String(err)}`);
    return;
  }
  assert.ok(!(expected instanceof Error), `the scanner read bytes the decoder refuses: ${String(expected)}`);
  assert.equal(raws.length, expected.samples.length);
  raws.forEach((raw, i) => {
    const s = expected.samples[i] as busway.v1.Sample;
    const seq = Long.fromValue(s.sequence ?? 0);
    assert.equal(raw.key, s.pointId);
    assert.equal(raw.t, msFromTimeNs(s.eventTimeNs));
    assert.deepEqual([raw.seq, raw.seqHigh], [seq.low >>> 0, seq.high >>> 0]);
    assert.equal(raw.watched, watches(s.metric));
    assert.deepEqual(json(busway.v1.Sample.decode(raw.bytes)), s.toJSON());
  });
  const rewritten = busway.v1.SampleBatch.decode(new RawBatchWriter().write(raws));
  assert.deepEqual(rewritten.samples.map(json), expected.samples.map(json));
}

describe('NORM samples kept as bytes', () => {
  it('reads every batch as the generated decoder does, and writes back the same samples', () => {
    const scanner = new NormBatchScanner(watches);
    const memo = new PositionMemo();
    fc.assert(
      fc.property(batchArb, (data) => assertSameReading(scanner, data, memo)),
      { numRuns: 500 },
    );
  });

  it('refuses what the generated decoder refuses, on broken and random bytes', () => {
    const scanner = new NormBatchScanner(watches);
    const memo = new PositionMemo();
    fc.assert(
      fc.property(fc.oneof(brokenArb, fc.uint8Array({ maxLength: 48 })), (data) =>
        assertSameReading(scanner, data, memo),
      ),
      { numRuns: 2000 },
    );
  });

  it('leaves a sample whose path comes twice to the generated decoder, which merges the two', () => {
    // found by the property below: path {asset}, a value, then path {site} again
    const first = busway.v1.UnsPath.encode({ asset: 'power.active' }).finish();
    const second = busway.v1.UnsPath.encode({ site: 'x' }).finish();
    const data = Buffer.from([
      ...[0x12, first.length, ...first], // field 2: path
      ...busway.v1.Sample.encode({ doubleValue: 0 }).finish(),
      ...[0x12, second.length, ...second], // field 2 again
    ]);
    assert.deepEqual(busway.v1.Sample.decode(data).toJSON().path, { site: 'x', asset: 'power.active' });
    assert.equal(new EngineFieldReader().read(data, 0, data.length, 'a'), undefined);
  });

  it("gives the engine a sample's metric, asset, class and value as the generated decoder reads them", () => {
    const reader = new EngineFieldReader();
    let read = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          sampleArb.map((s) => busway.v1.Sample.encode(s).finish()),
          brokenArb,
        ),
        // few points: the strings the reader remembers of a point's last sample are right or wrong for this one
        fc.constantFrom('a', 'b'),
        (bytes, point) => {
          const data = Buffer.from(bytes);
          let s: busway.v1.Sample;
          try {
            s = busway.v1.Sample.decode(data);
          } catch {
            return; // the engine never sees bytes its scanner refused
          }
          const view = reader.read(data, 0, data.length, point);
          if (!view) return;
          read++;
          assert.equal(view.metric ?? '', s.metric);
          assert.equal(view.path?.asset ?? '', s.path?.asset ?? '');
          assert.equal(view.path?.assetClass ?? '', s.path?.assetClass ?? '');
          assert.equal(view.path === undefined, s.path == null);
          assert.equal(view.doubleValue ?? null, s.doubleValue ?? null);
          assert.equal(view.intValue?.toString() ?? null, s.intValue?.toString() ?? null);
        },
      ),
      { numRuns: 2000 },
    );
    assert.ok(read > 500, `the reader read only ${read} samples itself`);
  });

  it('flags a sample by appending to its bytes, the rest unchanged', () => {
    const bytes = busway.v1.SampleBatch.encode({
      samples: [{ pointId: 'p', metric: 'power.active', doubleValue: 5, flags: ['null'] }],
    }).finish();
    const [raw] = new NormBatchScanner(watches).scan(bytes, (f) => new RawSample(f));
    const late = busway.v1.Sample.decode(raw!.withFlag('late').bytes);
    assert.deepEqual(late.flags, ['null', 'late']);
    assert.equal(late.doubleValue, 5);
    assert.equal(late.pointId, 'p');
  });
});
