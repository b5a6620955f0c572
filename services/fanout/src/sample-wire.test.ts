import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bigIntFromTimeNs, busway, timeNsFromMs, unsSubject } from '@busway/proto';
import { decodeWireSample, SampleBatchScanner, sampleBatchOf, type ScannedBatch } from './sample-wire.js';

const text = fc.constantFrom('', 'ai1', 'h1', 'r-2', 'rack 7', 'cdu-1', 'Ünïcode', 'power.active', 'a/b');
const sampleArb: fc.Arbitrary<busway.v1.ISample> = fc.record(
  {
    pointId: text,
    path: fc.record(
      { site: text, hall: text, row: text, rack: text, assetClass: text, asset: text },
      { requiredKeys: [] },
    ),
    metric: fc.constantFrom('', 'power.active', 'temperature.coolant.supply', 'Flow/Rate'),
    doubleValue: fc.double(),
    stringValue: text,
    unit: text,
    eventTimeNs: fc.integer({ min: 0, max: 2_000_000_000_000 }).map(timeNsFromMs),
    quality: fc.integer({ min: 0, max: 4 }),
    source: fc.record({ protocol: text, address: text, sourceId: text }, { requiredKeys: [] }),
    flags: fc.array(text, { maxLength: 2 }),
  },
  { requiredKeys: [] },
);
const batchArb = fc
  .array(sampleArb, { maxLength: 8 })
  .map((samples) => busway.v1.SampleBatch.encode({ samples }).finish());
/** A valid batch with bytes flipped, inserted or cut: what a broken producer or a bit error makes. */
const mangledArb = fc
  .tuple(
    batchArb,
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'cut')), {
      minLength: 1,
      maxLength: 4,
    }),
  )
  .map(([bytes, edits]) => {
    let b = Array.from(bytes);
    for (const [at, value, op] of edits) {
      const i = b.length === 0 ? 0 : at % b.length;
      if (op === 'set') b[i] = value;
      else if (op === 'insert') b.splice(i, 0, value);
      else b = b.slice(0, i);
    }
    return Uint8Array.from(b);
  });

/** What the generated decoder makes of `data`, or the error it throws. */
function generated(data: Uint8Array): busway.v1.SampleBatch | Error {
  try {
    return busway.v1.SampleBatch.decode(data);
  } catch (err) {
    return err as Error;
  }
}

/** The scanner reads `data` exactly as the generated decoder does: same refusals, same samples, same subjects. */
function assertSameReading(scanner: SampleBatchScanner, data: Uint8Array): void {
  const expected = generated(data);
  let scanned: ScannedBatch | Error;
  try {
    scanned = scanner.scan(data);
  } catch (err) {
    scanned = err as Error;
  }
  if (expected instanceof Error) {
    assert.ok(
      scanned instanceof Error,
      `the generated decoder throws (${expected.message}); the scanner must too`,
    );
    return;
  }
  assert.ok(
    !(scanned instanceof Error),
    `the generated decoder reads it; the scanner threw ${String(scanned)}`,
  );
  const routed = expected.samples.filter((s) => s.path && s.metric);
  assert.equal(scanned.samples.length, routed.length);
  assert.equal(scanned.withoutSubject, expected.samples.length - routed.length);
  scanned.samples.forEach((w, i) => {
    const s = routed[i] as busway.v1.Sample;
    assert.equal(w.subject, unsSubject(s.path ?? {}, s.metric));
    assert.equal(w.timeNs, bigIntFromTimeNs(s.eventTimeNs));
    assert.deepEqual(decodeWireSample(w).toJSON(), s.toJSON());
  });
  // a UNS message made of the scanned fields holds the same samples
  const json = (s: busway.v1.ISample) => busway.v1.Sample.toObject(s as busway.v1.Sample, { longs: String });
  assert.deepEqual(
    busway.v1.SampleBatch.decode(sampleBatchOf(scanned.samples)).samples.map(json),
    routed.map(json),
  );
}

describe('the sample batch scanner', () => {
  it('reads every valid batch as the generated decoder does', () => {
    const scanner = new SampleBatchScanner(); // one scanner throughout: its subject map is exercised too
    fc.assert(fc.property(batchArb, (data) => assertSameReading(scanner, data)));
  });

  it('refuses what the generated decoder refuses, and reads the rest alike, on mangled and random bytes', () => {
    const scanner = new SampleBatchScanner();
    fc.assert(
      fc.property(fc.oneof(mangledArb, fc.uint8Array({ maxLength: 64 })), (data) =>
        assertSameReading(scanner, data),
      ),
      { numRuns: 3000 },
    );
  });

  it('copies a sample as it came, fields it does not know included', () => {
    const sample = busway.v1.Sample.encode({
      pointId: 'p:cdu-1:flow',
      path: { site: 'ai1', hall: 'h1', row: 'r1', rack: 'rack-1', assetClass: 'cdu', asset: 'cdu-1' },
      metric: 'flow.coolant',
      doubleValue: 41.5,
      eventTimeNs: timeNsFromMs(1_800_000_000_000),
    }).finish();
    const unknown = Uint8Array.from([0xf8, 0x01, 0x2a]); // field 31, varint 42: from a newer producer
    const withUnknown = Uint8Array.from([...sample, ...unknown]);
    const batch = Uint8Array.from([0x0a, withUnknown.length, ...withUnknown]);
    const [w] = new SampleBatchScanner().scan(batch).samples;
    assert.deepEqual(Array.from(w?.field ?? []), Array.from(batch));
    assert.equal(w?.subject, 'uns.v1.ai1.h1.r1.rack-1.cdu.cdu-1.flow.coolant');
    assert.equal(w?.timeNs, 1_800_000_000_000_000_000n);
  });

  it('gives a point re-mapped by the registry its new subject, though its old one is remembered', () => {
    const scanner = new SampleBatchScanner();
    const at = (rack: string) =>
      scanner.scan(
        busway.v1.SampleBatch.encode({
          samples: [
            {
              pointId: 'p:pdu-1:power',
              path: { site: 'ai1', hall: 'h1', row: 'r1', rack, assetClass: 'pdu', asset: 'pdu-1' },
              metric: 'power.active',
            },
          ],
        }).finish(),
      ).samples[0]?.subject;
    assert.equal(at('rack-1'), 'uns.v1.ai1.h1.r1.rack-1.pdu.pdu-1.power.active');
    assert.equal(at('rack-2'), 'uns.v1.ai1.h1.r1.rack-2.pdu.pdu-1.power.active');
    assert.equal(at('rack-1'), 'uns.v1.ai1.h1.r1.rack-1.pdu.pdu-1.power.active');
  });
});
