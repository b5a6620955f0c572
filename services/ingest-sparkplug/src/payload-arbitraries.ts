// fast-check arbitraries of Sparkplug payloads, for the scanner's and the transcoder's property tests.
import fc from 'fast-check';
import { Long, org } from '@busway/proto';

export const u64 = fc
  .bigInt({ min: 0n, max: 2n ** 64n - 1n })
  .map((v) => Long.fromString(v.toString(), true));
export const smallU64 = fc.nat({ max: 2 ** 45 }).map((v) => Long.fromNumber(v, true));
export const ascii = fc.string({
  unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)),
});
export const anyText = fc.oneof(ascii, fc.string({ unit: 'binary' }));

/** Metrics as edge nodes send them (scalars, by name or alias), and some the scanner leaves to the decoder. */
export const metricArb = fc.record(
  {
    name: anyText,
    alias: fc.oneof(smallU64, u64),
    timestamp: fc.oneof(smallU64, u64),
    datatype: fc.nat(20),
    isHistorical: fc.boolean(),
    isTransient: fc.boolean(),
    isNull: fc.boolean(),
    intValue: fc.nat({ max: 2 ** 32 - 1 }),
    longValue: u64,
    floatValue: fc.float(),
    doubleValue: fc.double(),
    booleanValue: fc.boolean(),
    stringValue: anyText,
    bytesValue: fc.uint8Array({ maxLength: 4 }),
    properties: fc
      .constant(null)
      .map(() => ({ keys: ['engUnit'], values: [{ type: 12, stringValue: 'kW' }] })),
  },
  { requiredKeys: [] },
);
export const payloadArb = fc.record(
  { timestamp: u64, seq: smallU64, metrics: fc.array(metricArb, { maxLength: 6 }), uuid: fc.string() },
  { requiredKeys: ['metrics'] },
);

/** A scalar value of each kind an NDATA carries, with its datatype. */
export const scalarArb = fc.oneof(
  fc.record({ datatype: fc.constant(10), doubleValue: fc.double() }),
  fc.record({ datatype: fc.constant(3), intValue: fc.nat({ max: 2 ** 32 - 1 }) }),
  fc.record({ datatype: fc.constant(8), longValue: u64 }),
  fc.record({ datatype: fc.constant(9), floatValue: fc.float() }),
  fc.record({ datatype: fc.constant(11), booleanValue: fc.boolean() }),
  fc.record({ datatype: fc.constant(12), stringValue: ascii }),
  fc.record({ datatype: fc.constant(10), isNull: fc.constant(true) }),
);

/** An NDATA of scalar metrics by name or by alias, each with the payload's timestamp: what edge nodes send. */
export const plainNdataArb = fc
  .tuple(
    fc.array(
      fc.tuple(
        fc.oneof(
          ascii.map((name) => ({ name })),
          smallU64.map((alias) => ({ alias })),
        ),
        scalarArb,
      ),
      { maxLength: 30 },
    ),
    smallU64,
  )
  .map(([metrics, ts]) => ({
    timestamp: ts,
    seq: Long.fromNumber(7, true),
    metrics: metrics.map(([id, value]) => ({ ...id, ...value, timestamp: ts })),
  }));

/** An encoded payload with one byte changed, or cut short: what a bad link or a broken edge node sends. */
export const mangledArb = fc
  .tuple(payloadArb, fc.nat(), fc.nat(255), fc.boolean())
  .map(([p, at, byte, cut]) => {
    const bytes = Buffer.from(org.eclipse.tahu.protobuf.Payload.encode(p).finish());
    if (bytes.length === 0) return bytes;
    if (cut) return bytes.subarray(0, at % bytes.length);
    bytes[at % bytes.length] = byte;
    return bytes;
  });
