import { Long } from '@busway/proto';
import { DecodeError } from '@busway/runtime';

/** SMI type tags on the wire (RFC 2578, RFC 3416): the `type` of a net-snmp varbind. */
export const SmiType = {
  Boolean: 1,
  Integer: 2,
  BitString: 3,
  OctetString: 4,
  Null: 5,
  Oid: 6,
  IpAddress: 64,
  Counter32: 65,
  Gauge32: 66,
  TimeTicks: 67,
  Opaque: 68,
  Counter64: 70,
  NoSuchObject: 128,
  NoSuchInstance: 129,
  EndOfMibView: 130,
} as const;

export const POINT_TYPES = ['gauge', 'counter', 'string'] as const;
export type PointType = (typeof POINT_TYPES)[number];

/** A varbind as net-snmp hands it over: the value is not trusted, its shape depends on the type. */
export interface RawVarbind {
  oid: string;
  type: number;
  value: unknown;
}

/** A decoded value, typed as the sample will carry it. */
export type PointValue =
  { kind: 'int'; value: Long } | { kind: 'double'; value: number } | { kind: 'string'; value: string };

/** Why an agent has no value for an OID (SNMPv2 exceptions): the flag of a QUALITY_BAD sample. */
export type MissingFlag = 'no-such-object' | 'no-such-instance' | 'end-of-mib-view';

export type VarbindReading = { ok: true; value: PointValue } | { ok: false; flag: MissingFlag };

/** How a point reads its varbind. */
export interface Decoding {
  type?: PointType;
  scale: number;
}

const MISSING = new Map<number, MissingFlag>([
  [SmiType.NoSuchObject, 'no-such-object'],
  [SmiType.NoSuchInstance, 'no-such-instance'],
  [SmiType.EndOfMibView, 'end-of-mib-view'],
]);

const TYPE_NAMES = new Map<number, string>(Object.entries(SmiType).map(([name, tag]) => [tag, name]));
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const NUMERIC_TEXT = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

export function typeNameOf(type: number): string {
  return TYPE_NAMES.get(type) ?? `type ${type}`;
}

/** What a varbind holds before the point's type is applied. */
type Raw = { kind: 'integer'; value: bigint; counter: boolean } | { kind: 'text'; value: string };

/** A value for an error message; an object is only named, its toString is not trusted. */
const shown = (v: unknown) => (typeof v === 'object' && v !== null ? typeof v : String(v));

function integerIn(vb: RawVarbind, min: number, max: number): bigint {
  const v = vb.value;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new DecodeError(
      `${vb.oid}: ${typeNameOf(vb.type)} ${shown(v)} is not an integer in ${min}..${max}`,
    );
  return BigInt(v);
}

function bytesOf(vb: RawVarbind): Uint8Array {
  if (!(vb.value instanceof Uint8Array))
    throw new DecodeError(`${vb.oid}: ${typeNameOf(vb.type)} value is not bytes`);
  return vb.value;
}

/** Counter64 comes as the BER integer's content octets: big-endian, possibly with a leading zero. */
export function uint64Of(bytes: Uint8Array): bigint {
  if (bytes.length === 0 || bytes.length > 9) throw new DecodeError(`a Counter64 of ${bytes.length} bytes`);
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  if (v > UINT64_MAX) throw new DecodeError(`Counter64 ${v} is above 2^64-1`);
  return v;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** An OctetString as text when it is UTF-8, else as colon-separated hex (a MAC address, a bit mask). */
export function textOf(bytes: Uint8Array): string {
  try {
    const text = utf8.decode(bytes).replace(/\0+$/, '');
    // eslint-disable-next-line no-control-regex
    if (!/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text)) return text;
  } catch {
    // not UTF-8: shown as hex below
  }
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

function rawOf(vb: RawVarbind): Raw {
  switch (vb.type) {
    case SmiType.Integer:
      return { kind: 'integer', value: integerIn(vb, -(2 ** 31), 2 ** 31 - 1), counter: false };
    case SmiType.Gauge32:
    case SmiType.TimeTicks:
      return { kind: 'integer', value: integerIn(vb, 0, 2 ** 32 - 1), counter: false };
    case SmiType.Counter32:
      return { kind: 'integer', value: integerIn(vb, 0, 2 ** 32 - 1), counter: true };
    case SmiType.Counter64:
      return { kind: 'integer', value: uint64Of(bytesOf(vb)), counter: true };
    case SmiType.OctetString:
      return { kind: 'text', value: textOf(bytesOf(vb)) };
    case SmiType.IpAddress:
    case SmiType.Oid:
      if (typeof vb.value !== 'string')
        throw new DecodeError(`${vb.oid}: ${typeNameOf(vb.type)} is not text`);
      return { kind: 'text', value: vb.value };
    default:
      throw new DecodeError(`${vb.oid}: ${typeNameOf(vb.type)} is not a value type the bridge reads`);
  }
}

/** raw × scale, rounded as the MIB means it: 2301 × 0.1 is 230.1, not 230.10000000000002. */
export function scaled(raw: number, scale: number): number {
  const divisor = 1 / scale;
  return Number.isInteger(divisor) ? raw / divisor : raw * scale;
}

function numeric(vb: RawVarbind, raw: bigint | number, scale: number): PointValue {
  if (typeof raw === 'bigint' && scale === 1 && raw <= INT64_MAX && raw >= -INT64_MAX - 1n)
    return { kind: 'int', value: Long.fromString(raw.toString()) };
  const value = scaled(Number(raw), scale);
  if (!Number.isFinite(value)) throw new DecodeError(`${vb.oid}: ${String(raw)} × ${scale} is not finite`);
  return { kind: 'double', value };
}

/**
 * One varbind as the value of its point: the MIB's scaling applied, typed by the point (or, without a type, by
 * the varbind). An SNMPv2 exception is a reading without a value; anything that cannot be read as the point's
 * type throws DecodeError. Pure: never looks at the clock or the network.
 */
export function readVarbind(vb: RawVarbind, point: Decoding): VarbindReading {
  const missing = MISSING.get(vb.type);
  if (missing) return { ok: false, flag: missing };
  const raw = rawOf(vb);
  const type = point.type ?? (raw.kind === 'text' ? 'string' : raw.counter ? 'counter' : 'gauge');
  if (type === 'string')
    return {
      ok: true,
      value: { kind: 'string', value: raw.kind === 'text' ? raw.value : String(raw.value) },
    };
  if (raw.kind === 'text') {
    if (type === 'counter' || !NUMERIC_TEXT.test(raw.value))
      throw new DecodeError(
        `${vb.oid}: ${typeNameOf(vb.type)} '${raw.value.slice(0, 64)}' is not a ${type === 'counter' ? 'counter' : 'number'}`,
      );
    return { ok: true, value: numeric(vb, Number(raw.value), point.scale) };
  }
  if (type === 'counter' && raw.value < 0n)
    throw new DecodeError(`${vb.oid}: a counter cannot be negative (${typeNameOf(vb.type)} ${raw.value})`);
  return { ok: true, value: numeric(vb, raw.value, point.scale) };
}

/** A varbind as JSON for a dead letter: bytes as hex, so the operator sees what came. */
export function describeVarbind(vb: RawVarbind | undefined): Record<string, unknown> | undefined {
  if (!vb) return undefined;
  const value = vb.value instanceof Uint8Array ? Buffer.from(vb.value).toString('hex') : vb.value;
  return { oid: vb.oid, type: typeNameOf(vb.type), value: typeof value === 'bigint' ? String(value) : value };
}
