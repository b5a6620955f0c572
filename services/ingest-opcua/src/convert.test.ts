import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DataType, DataValue, StatusCodes, Variant, VariantArrayType, type StatusCode } from 'node-opcua';
import { busway, timeNsFromMs } from '@busway/proto';
import { convertDataValue, qualityOf, sourceTimeNs, type PointRef } from './convert.js';

const POINT: PointRef = {
  pointId: 'opcua:cdu-1:supply-temp',
  nodeId: 'ns=1;s=CDU1.SupplyTemp',
  address: 'opc.tcp://plc:4840#ns=1;s=CDU1.SupplyTemp',
  sourceId: 'cdu-1',
  unit: '°C',
};
const INGEST = timeNsFromMs(1_900_000_000_000);
const SOURCE_MS = 1_800_000_000_123;

function dataValue(
  dataType: DataType,
  value: unknown,
  extra: { status?: StatusCode; ts?: Date | null; ps?: number; arrayType?: VariantArrayType } = {},
): DataValue {
  const dv = new DataValue();
  dv.statusCode = extra.status ?? StatusCodes.Good; // assigned: the constructor turns unknown codes into Bad
  // assigned, not constructed: node-opcua's Variant constructor rejects what a malformed server may still send
  dv.value = new Variant();
  dv.value.dataType = dataType;
  dv.value.arrayType = extra.arrayType ?? VariantArrayType.Scalar;
  dv.value.value = value;
  dv.sourceTimestamp = extra.ts === undefined ? new Date(SOURCE_MS) : (extra.ts as Date);
  dv.sourcePicoseconds = extra.ps ?? 0;
  return dv;
}

function sampleOf(dv: DataValue): busway.v1.ISample {
  const out = convertDataValue(POINT, dv, INGEST);
  assert.equal(out.kind, 'sample', out.kind === 'rejected' ? out.rejected.message : '');
  return out.kind === 'sample' ? out.sample : {};
}

describe('OPC UA DataValue → raw sample', () => {
  it('keeps a Double with its unit, source timestamp (picoseconds as nanoseconds), quality and source', () => {
    const s = sampleOf(dataValue(DataType.Double, 31.25, { ps: 456_789_000 }));
    assert.equal(s.doubleValue, 31.25);
    assert.equal(s.unit, '°C');
    assert.equal(s.eventTimeNs?.toString(), '1800000000123456789');
    assert.equal(s.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_DEVICE);
    assert.equal(s.ingestTimeNs?.toString(), INGEST.toString());
    assert.equal(s.quality, busway.v1.Quality.QUALITY_GOOD);
    assert.deepEqual(s.source, { protocol: 'opcua', address: POINT.address, sourceId: 'cdu-1' });
    assert.equal(s.sequence?.toString(), String(SOURCE_MS));
    assert.deepEqual(s.flags, []);
  });

  it('types integers, 64-bit words, booleans and strings', () => {
    assert.equal(sampleOf(dataValue(DataType.Int32, -42)).intValue?.toString(), '-42');
    assert.equal(sampleOf(dataValue(DataType.UInt32, 4_000_000_000)).intValue?.toString(), '4000000000');
    assert.equal(sampleOf(dataValue(DataType.Int64, [0xffffffff, 0xfffffffe])).intValue?.toString(), '-2');
    assert.equal(sampleOf(dataValue(DataType.UInt64, [1, 0])).intValue?.toString(), String(2 ** 32));
    assert.equal(sampleOf(dataValue(DataType.Boolean, true)).boolValue, true);
    assert.equal(sampleOf(dataValue(DataType.String, 'cooling')).stringValue, 'cooling');
    assert.equal(sampleOf(dataValue(DataType.Float, 1.5)).doubleValue, 1.5);
  });

  it('maps the StatusCode severity to quality and flags what is not good', () => {
    const uncertain = sampleOf(
      dataValue(DataType.Double, 1, { status: StatusCodes.UncertainLastUsableValue }),
    );
    assert.equal(uncertain.quality, busway.v1.Quality.QUALITY_UNCERTAIN);
    assert.deepEqual(uncertain.flags, ['opcua-status:UncertainLastUsableValue']);
    const bad = sampleOf(dataValue(DataType.Double, 1, { status: StatusCodes.BadSensorFailure }));
    assert.equal(bad.quality, busway.v1.Quality.QUALITY_BAD);
    assert.equal(bad.doubleValue, 1, 'the last value a bad status carries is kept');
    assert.equal(qualityOf(0x00a80000), busway.v1.Quality.QUALITY_GOOD);
  });

  it('stamps a value without source timestamp at ingest, and a missing value as bad', () => {
    const s = sampleOf(dataValue(DataType.Double, 5, { ts: null }));
    assert.equal(s.eventTimeNs?.toString(), INGEST.toString());
    assert.equal(s.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_INGEST);
    assert.deepEqual(s.flags, ['no-source-time']);
    const empty = sampleOf(dataValue(DataType.Null, null, { status: StatusCodes.BadWaitingForInitialData }));
    assert.equal(empty.quality, busway.v1.Quality.QUALITY_BAD);
    assert.equal(empty.doubleValue ?? empty.intValue ?? empty.boolValue ?? empty.stringValue, undefined);
    assert.deepEqual(empty.flags, ['no-value', 'opcua-status:BadWaitingForInitialData']);
  });

  it('flags a value whose server queue overflowed', () => {
    const overflow = { value: 0x480, name: 'Good' } as StatusCode; // Good, InfoType DataValue, Overflow
    const s = sampleOf(dataValue(DataType.Double, 1, { status: overflow }));
    assert.deepEqual(s.flags, ['queue-overflow']);
  });

  it('rejects a ByteString, an ExtensionObject, an array and an out-of-range UInt64, with the reason', () => {
    const cases: [DataValue, RegExp][] = [
      [
        dataValue(DataType.ByteString, Buffer.from([1, 2, 3])),
        /ByteString is not a number, boolean or string/,
      ],
      [dataValue(DataType.ExtensionObject, { x: 1 }), /ExtensionObject/],
      [dataValue(DataType.Double, [1, 2], { arrayType: VariantArrayType.Array }), /array of Double/],
      [dataValue(DataType.UInt64, [0x80000000, 0]), /beyond the int64 range/],
      [dataValue(DataType.Int32, 'forty-two'), /Int32 is not a number/],
    ];
    for (const [dv, reason] of cases) {
      const out = convertDataValue(POINT, dv, INGEST);
      assert.equal(out.kind, 'rejected');
      if (out.kind !== 'rejected') continue;
      assert.match(out.rejected.message, reason);
      assert.equal(out.rejected.eventTimeNs.toString(), timeNsFromMs(SOURCE_MS).toString());
    }
    const blob = convertDataValue(POINT, dataValue(DataType.ByteString, Buffer.from([0xde, 0xad])), INGEST);
    assert.ok(blob.kind === 'rejected');
    const payload = JSON.parse(new TextDecoder().decode(blob.rejected.payload)) as Record<string, unknown>;
    assert.equal(payload.dataType, 'ByteString');
    assert.equal(payload.value, 'base64:3q0=');
    assert.equal(payload.sourceTimestamp, '2027-01-15T08:00:00.123000000Z');
  });

  it('ignores source timestamps that are no time (OPC UA min and max dates, invalid dates)', () => {
    assert.equal(sourceTimeNs(new Date(Date.UTC(1601, 0, 1)), 0), undefined);
    assert.equal(sourceTimeNs(new Date(Date.UTC(9999, 11, 31)), 0), undefined);
    assert.equal(sourceTimeNs(new Date(NaN), 0), undefined);
    assert.equal(
      sourceTimeNs(new Date(1000), 2e9)?.toString(),
      '1000000000',
      'picoseconds out of range ignored',
    );
  });
});

/** A variant of any data type, with a value of the type's shape most of the time, and of another shape sometimes. */
const anyVariant = fc.oneof(
  fc.record({ dataType: fc.constant(DataType.Double), value: fc.double() }),
  fc.record({ dataType: fc.constant(DataType.Float), value: fc.float({ noNaN: true }).map(Math.fround) }),
  fc.record({
    dataType: fc.constantFrom(DataType.Int32, DataType.Int16, DataType.SByte),
    value: fc.integer({ min: -128, max: 127 }),
  }),
  fc.record({ dataType: fc.constantFrom(DataType.UInt32, DataType.Byte), value: fc.nat({ max: 255 }) }),
  fc.record({
    dataType: fc.constantFrom(DataType.Int64, DataType.UInt64),
    value: fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff })),
  }),
  fc.record({ dataType: fc.constant(DataType.Boolean), value: fc.boolean() }),
  fc.record({ dataType: fc.constant(DataType.String), value: fc.string() }),
  fc.record({
    dataType: fc.constant(DataType.ByteString),
    value: fc.uint8Array().map((a) => Buffer.from(a)),
  }),
  fc.record({ dataType: fc.constant(DataType.DateTime), value: fc.date() }),
  fc.record({ dataType: fc.constant(DataType.ExtensionObject), value: fc.object() }),
  fc.record({ dataType: fc.constant(DataType.Null), value: fc.constant(null) }),
  fc.record({ dataType: fc.integer({ min: 0, max: 30 }), value: fc.anything() }),
);

const isWord = (x: unknown) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffffffff;

/** The test's own statement of which scalar values make a sample. */
function wellShaped(dataType: DataType, value: unknown): boolean {
  switch (dataType) {
    case DataType.Double:
    case DataType.Float:
      return typeof value === 'number';
    case DataType.SByte:
    case DataType.Byte:
    case DataType.Int16:
    case DataType.UInt16:
    case DataType.Int32:
    case DataType.UInt32:
      return Number.isSafeInteger(value);
    case DataType.Int64:
    case DataType.UInt64: {
      if (typeof value === 'number')
        return Number.isSafeInteger(value) && (value >= 0 || dataType === DataType.Int64);
      if (!Array.isArray(value) || value.length !== 2 || !isWord(value[0]) || !isWord(value[1])) return false;
      return dataType === DataType.Int64 || (value[0] as number) <= 0x7fffffff;
    }
    case DataType.Boolean:
      return typeof value === 'boolean';
    case DataType.String:
      return typeof value === 'string';
    default:
      return false;
  }
}

describe('OPC UA DataValue → raw sample, for any DataValue (fast-check)', () => {
  it('never throws; a sample keeps the value, quality and time, anything else is rejected with a reason', () => {
    fc.assert(
      fc.property(
        anyVariant,
        fc.constantFrom(VariantArrayType.Scalar, VariantArrayType.Scalar, VariantArrayType.Array),
        fc.nat({ max: 0xffffffff }),
        fc.option(fc.date({ noInvalidDate: false }), { nil: null }),
        fc.integer({ min: -10, max: 2e9 }),
        ({ dataType, value }, arrayType, code, ts, ps) => {
          const status = { value: code, name: 'Some' } as StatusCode;
          const out = convertDataValue(
            POINT,
            dataValue(dataType, value, { ts, ps, arrayType, status }),
            INGEST,
          );
          const empty = dataType === DataType.Null || value === null || value === undefined;
          const scalar = arrayType === VariantArrayType.Scalar || dataType === DataType.Null;
          assert.equal(out.kind, scalar && (empty || wellShaped(dataType, value)) ? 'sample' : 'rejected');
          if (out.kind === 'rejected') {
            assert.ok(out.rejected.message.startsWith(`${POINT.pointId}: `));
            JSON.parse(new TextDecoder().decode(out.rejected.payload));
            return;
          }
          const s = out.sample;
          busway.v1.Sample.decode(busway.v1.Sample.encode(s).finish());
          assert.equal(s.quality, empty ? busway.v1.Quality.QUALITY_BAD : qualityOf(code));
          if (s.doubleValue != null) assert.ok(Object.is(s.doubleValue, value));
          if (s.boolValue != null) assert.equal(s.boolValue, value);
          if (s.stringValue != null) assert.equal(s.stringValue, value);
          if (s.intValue != null) {
            const [high, low] = Array.isArray(value) ? (value as [number, number]) : [0, 0];
            const expected = Array.isArray(value)
              ? BigInt.asIntN(64, (BigInt(high) << 32n) | BigInt(low))
              : BigInt(value as number);
            assert.equal(BigInt(s.intValue.toString()), expected);
          }
          const sourceNs = sourceTimeNs(ts, ps);
          assert.equal(s.eventTimeNs?.toString(), (sourceNs ?? INGEST).toString());
          assert.equal(s.clockSource === busway.v1.ClockSource.CLOCK_SOURCE_DEVICE, sourceNs !== undefined);
          if (sourceNs && ts) {
            const subMs = ps > 0 && ps < 1e9 ? BigInt(Math.floor(ps / 1000)) : 0n;
            assert.equal(BigInt(sourceNs.toString()), BigInt(ts.getTime()) * 1_000_000n + subMs);
          }
          assert.equal(
            BigInt(s.sequence?.toString() ?? '-1'),
            BigInt(s.eventTimeNs?.toString() ?? '0') / 1_000_000n,
          );
        },
      ),
      { numRuns: 3000 },
    );
  });
});
