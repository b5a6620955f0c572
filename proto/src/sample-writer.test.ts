import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import Long from 'long';
import { busway } from '../gen/busway.js';
import { SampleBatchWriter } from './sample-writer.js';

const generated = (batch: busway.v1.ISampleBatch) =>
  Buffer.from(busway.v1.SampleBatch.encode(batch).finish());
/** The bytes an encoder wrote, or that it threw. */
const outcome = (encode: () => Uint8Array) => {
  try {
    return Buffer.from(encode());
  } catch {
    return 'threw';
  }
};

/** A 64-bit value as bridges give it (a Long, signed or not, or a number), and odd forms the writer passes on. */
const int64 = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }).map((v) => Long.fromString(v.toString(), v >= 0n)),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.constantFrom(0, -0, Number.MAX_SAFE_INTEGER, 2 ** 60, 1.5, Long.ZERO, Long.UZERO),
);
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }), // astral code points
  fc.constantFrom('', 'kW', 'Cel', 'sparkplug:site/gw:Rack 1/Power', '\ud800', 'a\udc00b', 'é'.repeat(9000)),
);
const enumValue = fc.oneof(fc.nat(12), fc.constantFrom(-1, 2 ** 31, 0.5));

// typed loosely: numbers where the schema says Long are what callers pass too
const sampleArb = fc.record(
  {
    pointId: text,
    metric: text,
    doubleValue: fc.oneof(fc.double(), fc.constantFrom(0, -0, Number.NaN)),
    intValue: int64,
    boolValue: fc.boolean(),
    stringValue: text,
    unit: text,
    eventTimeNs: int64,
    clockSource: enumValue,
    clockQuality: fc.oneof(fc.nat(), fc.constantFrom(2 ** 32 - 1, 2 ** 32)),
    ingestTimeNs: int64,
    quality: enumValue,
    sequence: int64,
    unregistered: fc.boolean(),
    flags: fc.array(text, { maxLength: 3 }),
    path: fc.oneof(
      fc.record(
        { site: text, hall: text, row: text, rack: text, assetClass: text, asset: text },
        { requiredKeys: [] },
      ),
      fc.constant({ site: 7, rack: 'r1' }), // not a string: the generated encoder's business
    ),
    source: fc.record({ protocol: text, address: text, sourceId: text }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

describe('SampleBatchWriter', () => {
  it('writes the same bytes as the generated encoder', () => {
    const writer = new SampleBatchWriter();
    fc.assert(
      fc.property(
        fc.array(sampleArb, { maxLength: 8 }),
        fc.option(fc.record({ protocol: fc.string(), sourceId: fc.string(), address: fc.string() })),
        (samples, source) => {
          const batch = (source ? { samples, source } : { samples }) as busway.v1.ISampleBatch;
          assert.deepEqual(
            outcome(() => writer.encode(batch)),
            outcome(() => generated(batch)),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('writes decoded Sample instances as the generated encoder does (defaults on the prototype)', () => {
    const writer = new SampleBatchWriter();
    fc.assert(
      fc.property(fc.array(sampleArb, { maxLength: 4 }), (samples) => {
        let decoded: busway.v1.SampleBatch;
        try {
          decoded = busway.v1.SampleBatch.decode(generated({ samples } as busway.v1.ISampleBatch));
        } catch {
          return fc.pre(false); // a lone surrogate encodes to bytes the generated decoder refuses as UTF-8
        }
        assert.deepEqual(Buffer.from(writer.encode(decoded)), generated(decoded));
      }),
    );
  });

  it('keeps each batch its own: later batches, in the same buffer or new ones, change no earlier one', () => {
    const writer = new SampleBatchWriter();
    const batches = fc.sample(fc.array(sampleArb, { minLength: 1, maxLength: 40 }), {
      numRuns: 400,
      seed: 7,
    }) as busway.v1.ISample[][]; // with values of odd types, on purpose
    // outputs are views of the buffers the writer writes on: every one is checked after all are written
    const kept = batches.map((samples) => {
      try {
        return { samples, out: writer.encode({ samples }) };
      } catch {
        return { samples, out: undefined }; // a lone surrogate: the generated encoder's case
      }
    });
    const bytes = kept.reduce((n, k) => n + (k.out?.length ?? 0), 0);
    assert.ok(
      bytes > 1024 * 1024,
      `only ${bytes} bytes written: the test must cross several 256 KiB buffers`,
    );
    for (const { samples, out } of kept) {
      if (out) assert.deepEqual(Buffer.from(out), generated({ samples }));
    }
  });

  it('writes a sample longer than 16 KiB, and a batch larger than its first buffer', () => {
    const writer = new SampleBatchWriter();
    const long = { pointId: 'p'.repeat(20_000), stringValue: 'v'.repeat(3_000_000) };
    const batch = { samples: [long, { pointId: 'q', intValue: Long.fromNumber(-5) }, long] };
    assert.deepEqual(Buffer.from(writer.encode(batch)), generated(batch));
  });
});
