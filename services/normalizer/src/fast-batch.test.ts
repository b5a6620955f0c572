import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { busway, Long } from '@busway/proto';
import { CompactRegistry, type SiteModel } from '@busway/registry';
import { Deadband } from './deadband.js';
import { FastBatchNormalizer } from './fast-batch.js';
import { normalizeBatch, normalizeBatchObjects, type NormalizedBatch } from './normalize-batch.js';
import { SampleNormalizer } from './normalize.js';

// An unvalidated model on purpose: a point of an asset the model does not have (a stray) is included.
const model: SiteModel = {
  site: 'ai1',
  assets: [
    { id: 'rack-1', class: 'rack', hall: 'h1', row: 'r1', rack: 'rack-1', feeds: [], cools: [] },
    {
      id: 'node-1',
      class: 'node',
      hall: 'h1',
      row: 'r1',
      rack: 'rack-1',
      feeds: [],
      cools: [],
      parent: 'rack-1',
    },
    { id: 'cdu-1', class: 'cdu', hall: 'h1', row: 'r1', rack: 'plant-r1', feeds: [], cools: ['rack-1'] },
    { id: 'rack-2', class: 'rack', hall: 'h2', row: 'r9', rack: 'rack-2', feeds: [], cools: [] },
  ],
  points: [
    { pointId: 'sp:g/cdu-1:Supply', asset: 'cdu-1', metric: 'temperature.coolant.supply', deadband: 0.5 },
    { pointId: 'sp:g/cdu-1:Return', asset: 'cdu-1', metric: 'temperature.coolant.return', unit: 'degF' },
    { pointId: 'snmp:pdu-1:cur', asset: 'rack-1', metric: 'current.l1', unit: 'A', scale: 0.1 },
    { pointId: 'sp:g/node-1:Power', asset: 'node-1', metric: 'power.active', unit: 'W', deadband: 0 },
    { pointId: 'sp:g/node-1:Running', asset: 'node-1', metric: 'state.running' },
    { pointId: 'sp:g/rack-2:Inlet', asset: 'rack-2', metric: 'temperature.air.inlet', unit: 'Cel' },
    { pointId: 'sp:g/rack-2:Util', asset: 'rack-2', metric: 'utilization.gpu', scale: 100 },
    { pointId: 'sp:g/stray:X', asset: 'ghost', metric: 'power.active' },
  ],
};
const registeredIds = model.points.map((p) => p.pointId);
const rules = { taiUtcOffsetS: 37, maxFutureSkewMs: 5000 };
const T = 1_800_000_000_000_000_000n; // ns

const long = (v: bigint, unsigned: boolean) => Long.fromString(BigInt.asUintN(64, v).toString(), unsigned);
const ascii = fc.string({ unit: fc.constantFrom('a', 'b', '/', ':', '-', '1', ' '), maxLength: 6 });
const text = fc.oneof(ascii, fc.string({ maxLength: 4 }), fc.constant(''));
const time = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: T - 10_000_000_000n, max: T + 10_000_000_000n }),
  fc.bigInt({ min: T + 3_600_000_000_000n, max: T + 7_200_000_000_000n }),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);

const sampleArb: fc.Arbitrary<busway.v1.ISample> = fc
  .record(
    {
      pointId: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...registeredIds) },
        fc.constantFrom('', 'sp:g/new:Y', 'x'),
      ),
      value: fc.oneof(
        { weight: 4, arbitrary: fc.double().map((v) => ({ doubleValue: v })) },
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => ({ intValue: long(v, false) })),
        fc.boolean().map((v) => ({ boolValue: v })),
        text.map((v) => ({ stringValue: v })),
        fc.constant({}),
      ),
      unit: fc.constantFrom('degF', 'Cel', 'kW', 'W', '', '%', 'A', 'bogus', '°C', 'kg', 'degF'),
      eventTimeNs: time,
      ingestTimeNs: time,
      /** Event time relative to the ingest time, at the edges of the skew rule (5 s) and the TAI shift (37 s). */
      lead: fc.constantFrom(
        0n,
        5_000_000_000n,
        5_000_000_001n,
        4_999_999_999n,
        42_000_000_000n,
        42_000_000_001n,
        -1n,
      ),
      clockSource: fc.constantFrom(0, 1, 2, 3, 4),
      clockQuality: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
      quality: fc.constantFrom(0, 1, 2, 3, 4),
      source: fc.record({ protocol: text, sourceId: text, address: text }, { requiredKeys: [] }),
      sequence: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      unregistered: fc.boolean(),
      flags: fc.array(text, { maxLength: 2 }),
      metric: fc.constantFrom('power.active', 'x'),
      path: fc.constant({ site: 'zz', asset: 'a' }),
    },
    { requiredKeys: ['pointId', 'value', 'unit', 'eventTimeNs', 'ingestTimeNs', 'clockSource', 'quality'] },
  )
  .map(({ value, eventTimeNs, ingestTimeNs, lead, sequence, ...rest }) => ({
    ...rest,
    ...value,
    eventTimeNs: long(lead === undefined ? eventTimeNs : ingestTimeNs + lead, true),
    ingestTimeNs: long(ingestTimeNs, true),
    ...(sequence === undefined ? {} : { sequence: long(sequence, true) }),
  }));

/** Units each registered point accepts (so a message of them can take the fast path). */
const fitting: Record<string, string[]> = {
  'sp:g/cdu-1:Supply': ['degF', 'Cel', 'K'],
  'sp:g/cdu-1:Return': ['', 'Cel', 'degF'],
  'snmp:pdu-1:cur': ['', 'A', 'mA'],
  'sp:g/node-1:Power': ['', 'W', 'kW'],
  'sp:g/node-1:Running': ['', 'bogus', '°C'],
  'sp:g/rack-2:Inlet': ['', 'degF'],
  'sp:g/rack-2:Util': ['%'],
};
const nonEmpty = ascii.filter((v) => v !== '');

const sourceArb = fc.record(
  { protocol: nonEmpty, sourceId: nonEmpty, address: nonEmpty },
  { requiredKeys: [] },
);

/** What a bridge sends: registered points in fitting units, canonical encoding, ASCII text. */
const cleanSampleArb: fc.Arbitrary<busway.v1.ISample> = fc
  .tuple(fc.constantFrom(...Object.keys(fitting)), fc.nat(), sampleArb, fc.option(sourceArb))
  .map(([pointId, u, s, source]) => {
    const units = fitting[pointId] as string[];
    const { path: _p, metric: _m, unregistered: _u, stringValue, ...rest } = s;
    return {
      ...rest,
      pointId,
      unit: units[u % units.length],
      ...(stringValue == null ? {} : { stringValue: stringValue.replace(/[^ -~]/g, '') }),
      flags: (s.flags ?? []).map((f) => f.replace(/[^ -~]/g, '')),
      source: source ?? undefined,
    };
  });

const batchArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      {
        samples: fc.array(cleanSampleArb, { maxLength: 12 }),
        source: sourceArb,
      },
      { requiredKeys: ['samples'] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        samples: fc.array(sampleArb, { maxLength: 12 }),
        source: fc.record({ protocol: text, sourceId: text, address: text }, { requiredKeys: [] }),
      },
      { requiredKeys: ['samples'] },
    ),
  },
);

/** Encoded batches; some with an unknown field appended, some with a byte changed (often undecodable). */
const messageArb = fc
  .tuple(
    batchArb,
    fc.constantFrom('as is', 'as is', 'as is', 'unknown field', 'byte changed', 'samples merged'),
    fc.nat(),
    fc.nat(255),
  )
  .map(([batch, how, at, byte]) => {
    const data = busway.v1.SampleBatch.encode(batch).finish();
    if (how === 'unknown field') return Buffer.concat([data, Buffer.from([0x98, 0x06, 0x01])]); // field 99 varint
    if (how === 'samples merged') {
      // two encodings one after the other are one message, merged: every field twice (last wins, sources merge)
      const parts = batch.samples.map((x) => busway.v1.Sample.encode(x).finish());
      const merged = parts.map((x, i) => Buffer.concat([x, parts[(i + at) % parts.length] ?? x]));
      return busway.v1.SampleBatch.encode({ samples: [] }).finish().length === 0
        ? Buffer.concat(merged.map((x) => Buffer.concat([Buffer.from([0x0a]), varint(x.length), x])))
        : data;
    }
    if (how === 'byte changed' && data.length > 0) {
      const copy = Buffer.from(data);
      copy[at % copy.length] = byte;
      return copy;
    }
    return data;
  });

const varint = (n: number) => {
  const out: number[] = [];
  for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Buffer.from(out);
};

type Outcome =
  { out: [string, string, number][]; rejected: [string, string][]; suppressed: number } | { error: string };

function run(fn: () => NormalizedBatch): Outcome {
  try {
    const r = fn();
    return {
      out: r.out.map((o) => [o.subject, Buffer.from(o.data).toString('hex'), o.count]),
      rejected: r.rejected.map((x) => [
        Buffer.from(x.data).toString('hex'),
        `${x.reason.code}: ${x.reason.message}`,
      ]),
      suppressed: r.suppressed,
    };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

describe('fast path (wire to wire)', () => {
  it('writes byte for byte what the decoder, the object normalizer and the encoder write, message after message', () => {
    let tookFastPath = 0;
    let messagesSeen = 0;
    fc.assert(
      fc.property(fc.array(messageArb, { minLength: 1, maxLength: 4 }), (messages) => {
        const registry = new CompactRegistry(structuredClone(model), 1);
        const fast = { n: new SampleNormalizer(registry, 'ai1', rules), d: new Deadband(60_000) };
        const slow = { n: new SampleNormalizer(registry, 'ai1', rules), d: new Deadband(60_000) };
        for (const data of messages) {
          const fb = fast.d.stage();
          const sb = slow.d.stage();
          messagesSeen++;
          if (new FastBatchNormalizer(fast.n).normalize(data, new Deadband(1).stage())) tookFastPath++;
          const a = run(() => normalizeBatch(data, fast.n, fb));
          const b = run(() => normalizeBatchObjects(data, slow.n, sb));
          assert.deepEqual(a, b);
          fb.commit();
          sb.commit();
          assert.equal(fast.d.size, slow.d.size);
        }
      }),
      { numRuns: 400 },
    );
    // the comparison means something only if the fast path took a good share of the messages
    assert.ok(tookFastPath > messagesSeen / 4, `fast path took ${tookFastPath} of ${messagesSeen}`);
  });

  it('judges deadbands on the same times, qualities and values as the object path', () => {
    // one point with a deadband, samples a fraction of a millisecond apart, values around the band
    const stepArb = fc.record({
      stepNs: fc.constantFrom(
        100_000n,
        499_999n,
        500_000n,
        1_000_000n,
        59_999_999_999n,
        60_000_000_000n,
        -300_000n,
      ),
      value: fc.constantFrom(20, 20.4, 20.5, 20.6, 21.2),
      quality: fc.constantFrom(1, 2),
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(stepArb, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
        (batches) => {
          const registry = new CompactRegistry(structuredClone(model), 1);
          const fast = { n: new SampleNormalizer(registry, 'ai1', rules), d: new Deadband(60_000) };
          const slow = { n: new SampleNormalizer(registry, 'ai1', rules), d: new Deadband(60_000) };
          let t = T + 123_456n;
          for (const steps of batches) {
            const samples = steps.map(({ stepNs, value, quality }) => {
              t += stepNs;
              return {
                pointId: 'sp:g/cdu-1:Supply',
                doubleValue: value,
                unit: 'Cel',
                quality,
                eventTimeNs: long(t, true),
              };
            });
            const data = busway.v1.SampleBatch.encode({ samples }).finish();
            const fb = fast.d.stage();
            const sb = slow.d.stage();
            assert.deepEqual(
              run(() => normalizeBatch(data, fast.n, fb)),
              run(() => normalizeBatchObjects(data, slow.n, sb)),
            );
            fb.commit();
            sb.commit();
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads a bool as the generated decoder does: true when any bit of its varint is set, the high ones included', () => {
    const registry = new CompactRegistry(structuredClone(model), 1);
    const id = Buffer.from('sp:g/node-1:Running');
    const sample = Buffer.concat([
      Buffer.from([0x0a, id.length]),
      id,
      Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x10]),
    ]);
    const data = Buffer.concat([Buffer.from([0x0a, sample.length]), sample]);
    const fast = new FastBatchNormalizer(new SampleNormalizer(registry, 'ai1', rules));
    const r = fast.normalize(data, new Deadband(1).stage());
    assert.ok(r);
    assert.deepEqual(
      run(() => r),
      run(() =>
        normalizeBatchObjects(data, new SampleNormalizer(registry, 'ai1', rules), new Deadband(1).stage()),
      ),
    );
    assert.equal(
      busway.v1.SampleBatch.decode(r.out[0]?.data ?? new Uint8Array()).samples[0]?.boolValue,
      true,
    );
  });

  it('merges a sample sent in two parts as the generated decoder does (sources merged, the last value wins)', () => {
    const registry = new CompactRegistry(structuredClone(model), 1);
    const first = busway.v1.Sample.encode({
      pointId: 'sp:g/cdu-1:Supply',
      unit: 'Cel',
      source: { protocol: 'p' },
    });
    const second = busway.v1.Sample.encode({ doubleValue: 2, source: { sourceId: 's' }, flags: ['b'] });
    const sample = Buffer.concat([first.finish(), second.finish()]);
    const data = Buffer.concat([Buffer.from([0x0a]), varint(sample.length), sample]);
    const fast = run(() =>
      normalizeBatch(data, new SampleNormalizer(registry, 'ai1', rules), new Deadband(1).stage()),
    );
    assert.deepEqual(
      fast,
      run(() =>
        normalizeBatchObjects(data, new SampleNormalizer(registry, 'ai1', rules), new Deadband(1).stage()),
      ),
    );
    assert.ok('out' in fast);
    const out = busway.v1.SampleBatch.decode(Buffer.from(fast.out[0]?.[1] ?? '', 'hex')).samples[0];
    assert.deepEqual({ ...out?.source }, { protocol: 'p', sourceId: 's' });
  });

  it('takes registered points in units their kinds accept without falling back to the objects', () => {
    const registry = new CompactRegistry(structuredClone(model), 1);
    const normalizer = new SampleNormalizer(registry, 'ai1', rules);
    const fast = new FastBatchNormalizer(normalizer);
    const now = long(T, true);
    const data = busway.v1.SampleBatch.encode({
      source: { protocol: 'sparkplug', sourceId: 'g' },
      samples: [
        { pointId: 'sp:g/cdu-1:Supply', doubleValue: 86, unit: 'degF', eventTimeNs: now, ingestTimeNs: now },
        { pointId: 'sp:g/cdu-1:Return', doubleValue: 90, eventTimeNs: now, flags: ['historical'] },
        { pointId: 'snmp:pdu-1:cur', intValue: Long.fromNumber(123), sequence: Long.fromNumber(7, true) },
        { pointId: 'sp:g/node-1:Running', boolValue: true, clockSource: 1, eventTimeNs: now },
        {
          pointId: 'sp:g/rack-2:Util',
          doubleValue: 0.5,
          unit: '%',
          quality: 1,
          source: { sourceId: 'rack-2' },
        },
      ],
    }).finish();
    const r = fast.normalize(data, new Deadband(60_000).stage());
    assert.ok(r, 'the fast path took the message');
    assert.deepEqual(
      r.out.map((o) => [o.subject, o.count]),
      [
        ['norm.v1.samples.ai1.h1.r1.plant-r1', 2],
        ['norm.v1.samples.ai1.h1.r1.rack-1', 2],
        ['norm.v1.samples.ai1.h2.r9.rack-2', 1],
      ],
    );
    const supply = busway.v1.SampleBatch.decode(r.out[0]?.data ?? new Uint8Array()).samples[0];
    assert.equal(supply?.unit, 'Cel');
    assert.ok(Math.abs((supply?.doubleValue ?? 0) - 30) < 1e-9);
    const current = busway.v1.SampleBatch.decode(r.out[1]?.data ?? new Uint8Array()).samples[0];
    assert.ok(Math.abs((current?.doubleValue ?? 0) - 12.3) < 1e-9);
    assert.deepEqual(current?.flags, ['no-source-time']);
  });

  it('hands an unregistered point, a unit mismatch and a stray point to the object path', () => {
    const registry = new CompactRegistry(structuredClone(model), 1);
    const fast = new FastBatchNormalizer(new SampleNormalizer(registry, 'ai1', rules));
    const one = (s: busway.v1.ISample) =>
      fast.normalize(busway.v1.SampleBatch.encode({ samples: [s] }).finish(), new Deadband(60_000).stage());
    assert.equal(one({ pointId: 'sp:g/new:Y', doubleValue: 1 }), undefined);
    assert.equal(one({ pointId: 'sp:g/cdu-1:Supply', doubleValue: 1, unit: 'kW' }), undefined);
    assert.equal(one({ pointId: 'sp:g/stray:X', doubleValue: 1, unit: 'W' }), undefined);
    assert.ok(one({ pointId: 'sp:g/node-1:Power', doubleValue: 1, unit: 'kW' }));
  });
});
