import { DataType, VariantArrayType, type DataValue } from 'node-opcua';
import { busway, Long, rfc3339Nano, timeNsFromMs } from '@busway/proto';

/** What a sample needs to know about the node it came from. */
export interface PointRef {
  /** `opcua:<endpoint id>:<name or node id>`. */
  pointId: string;
  nodeId: string;
  /** `<endpoint url>#<node id>`. */
  address: string;
  /** The endpoint id. */
  sourceId: string;
  /** The node's EngineeringUnits, else the configured unit. */
  unit: string;
}

/** A value that cannot be a sample (not a number, boolean or string), kept for its dead letter. */
export interface RejectedValue {
  pointId: string;
  nodeId: string;
  eventTimeNs: Long;
  message: string;
  /** JSON describing the value as it came. */
  payload: Uint8Array;
}

export type Converted =
  { kind: 'sample'; sample: busway.v1.ISample } | { kind: 'rejected'; rejected: RejectedValue };

type SampleValue = Pick<busway.v1.ISample, 'doubleValue' | 'intValue' | 'boolValue' | 'stringValue'>;
type ValueOutcome = { value: SampleValue } | { none: true } | { error: string };

const INTEGER_TYPES = new Set([
  DataType.SByte,
  DataType.Byte,
  DataType.Int16,
  DataType.UInt16,
  DataType.Int32,
  DataType.UInt32,
]);
const NS_PER_MS = 1_000_000;
const PS_PER_NS = 1000;
const PS_PER_MS = 1_000_000_000;
/** 2500-01-01: later (OPC UA's "max date" among them) is no real source time, and overflows uint64 ns. */
const MAX_SOURCE_MS = 16_725_225_600_000;
/** StatusCode InfoType = DataValue (bits 10-11) with the Overflow bit (7): the server's item queue lost values. */
const OVERFLOW_MASK = 0x0c80;
const OVERFLOW_BITS = 0x0480;

/** The severity bits of an OPC UA StatusCode as a fabric quality. */
export function qualityOf(statusCode: number): busway.v1.Quality {
  const severity = statusCode >>> 30;
  if (severity === 0) return busway.v1.Quality.QUALITY_GOOD;
  if (severity === 1) return busway.v1.Quality.QUALITY_UNCERTAIN;
  return busway.v1.Quality.QUALITY_BAD;
}

/** Nanoseconds since the epoch of a source timestamp, with node-opcua's sub-millisecond picoseconds. */
export function sourceTimeNs(
  timestamp: Date | null | undefined,
  picoseconds: number | null | undefined,
): Long | undefined {
  const ms = timestamp instanceof Date ? timestamp.getTime() : NaN;
  if (!Number.isFinite(ms) || ms <= 0 || ms >= MAX_SOURCE_MS) return undefined;
  const ps = picoseconds ?? 0;
  const subMsNs = Number.isInteger(ps) && ps > 0 && ps < PS_PER_MS ? Math.floor(ps / PS_PER_NS) : 0;
  return timeNsFromMs(ms).add(subMsNs);
}

function isUInt32(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff;
}

/** node-opcua holds a 64-bit integer as [high, low] 32-bit words. */
function int64Of(raw: unknown, unsigned: boolean): ValueOutcome {
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && (raw >= 0 || !unsigned))
    return { value: { intValue: Long.fromNumber(raw) } };
  if (!Array.isArray(raw) || raw.length !== 2 || !isUInt32(raw[0]) || !isUInt32(raw[1]))
    return { error: `malformed ${unsigned ? 'UInt64' : 'Int64'} ${String(raw)}` };
  const [high, low] = raw;
  if (unsigned && high > 0x7fffffff) return { error: 'UInt64 value beyond the int64 range of a sample' };
  return { value: { intValue: Long.fromBits(low, high, false) } };
}

function valueOf(dataType: DataType, raw: unknown): ValueOutcome {
  if (dataType === DataType.Null || raw === null || raw === undefined) return { none: true };
  if (dataType === DataType.Boolean && typeof raw === 'boolean') return { value: { boolValue: raw } };
  if ((dataType === DataType.Double || dataType === DataType.Float) && typeof raw === 'number')
    return { value: { doubleValue: raw } };
  if (INTEGER_TYPES.has(dataType) && Number.isSafeInteger(raw))
    return { value: { intValue: Long.fromNumber(raw as number) } };
  if (dataType === DataType.Int64 || dataType === DataType.UInt64)
    return int64Of(raw, dataType === DataType.UInt64);
  if (dataType === DataType.String && typeof raw === 'string') return { value: { stringValue: raw } };
  return { error: `a ${DataType[dataType] ?? `type ${dataType}`} is not a number, boolean or string` };
}

function preview(raw: unknown): string {
  if (Buffer.isBuffer(raw)) return `base64:${raw.subarray(0, 4096).toString('base64')}`;
  try {
    return String(raw).slice(0, 1024);
  } catch {
    return '<unprintable>';
  }
}

function rejectedOf(
  point: PointRef,
  dv: DataValue,
  sourceNs: Long | undefined,
  eventTimeNs: Long,
  message: string,
): Converted {
  const payload = {
    pointId: point.pointId,
    address: point.address,
    dataType: DataType[dv.value.dataType] ?? dv.value.dataType,
    arrayType: VariantArrayType[dv.value.arrayType] ?? dv.value.arrayType,
    statusCode: dv.statusCode.name,
    sourceTimestamp: sourceNs ? rfc3339Nano(sourceNs) : null,
    value: preview(dv.value.value),
    error: message,
  };
  return {
    kind: 'rejected',
    rejected: {
      pointId: point.pointId,
      nodeId: point.nodeId,
      eventTimeNs,
      message: `${point.pointId}: ${message}`,
      payload: new TextEncoder().encode(JSON.stringify(payload)),
    },
  };
}

function flagsOf(statusCode: number, hasSourceTime: boolean, hasValue: boolean, name: string): string[] {
  const flags: string[] = [];
  if (!hasSourceTime) flags.push('no-source-time');
  if (!hasValue) flags.push('no-value');
  if ((statusCode & OVERFLOW_MASK) === OVERFLOW_BITS) flags.push('queue-overflow');
  if (statusCode >>> 30 !== 0) flags.push(`opcua-status:${name}`);
  return flags;
}

/**
 * One DataValue of a monitored item as a raw sample: the source timestamp (picoseconds kept) as event time, the
 * StatusCode's severity as quality. A value that is no number, boolean or string is rejected with the reason;
 * a missing value is a QUALITY_BAD sample flagged `no-value`. Never throws.
 */
export function convertDataValue(point: PointRef, dv: DataValue, ingestTimeNs: Long): Converted {
  const sourceNs = sourceTimeNs(dv.sourceTimestamp, dv.sourcePicoseconds);
  const eventTimeNs = sourceNs ?? ingestTimeNs;
  const variant = dv.value;
  const raw: unknown = variant.value;
  const outcome: ValueOutcome =
    variant.arrayType !== VariantArrayType.Scalar && variant.dataType !== DataType.Null
      ? { error: `an array of ${DataType[variant.dataType] ?? variant.dataType} is not a single value` }
      : valueOf(variant.dataType, raw);
  if ('error' in outcome) return rejectedOf(point, dv, sourceNs, eventTimeNs, outcome.error);
  const status = dv.statusCode.value;
  const hasValue = 'value' in outcome;
  const sample: busway.v1.ISample = {
    pointId: point.pointId,
    ...(hasValue ? outcome.value : {}),
    unit: point.unit,
    eventTimeNs,
    clockSource: sourceNs
      ? busway.v1.ClockSource.CLOCK_SOURCE_DEVICE
      : busway.v1.ClockSource.CLOCK_SOURCE_INGEST,
    ingestTimeNs,
    quality: hasValue ? qualityOf(status) : busway.v1.Quality.QUALITY_BAD,
    source: { protocol: 'opcua', address: point.address, sourceId: point.sourceId },
    sequence: eventTimeNs.toUnsigned().divide(NS_PER_MS),
    flags: flagsOf(status, sourceNs !== undefined, hasValue, dv.statusCode.name),
  };
  return { kind: 'sample', sample };
}
