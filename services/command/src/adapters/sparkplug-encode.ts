import { Long, type org } from '@busway/proto';
import { SpType } from '@busway/ingest-sparkplug';
import { CommandRefused, RefusalCode } from '../errors.js';

type Metric = org.eclipse.tahu.protobuf.Payload.IMetric;

/** What a birth certificate says about one metric, as ingest-sparkplug keeps it in its KV bucket. */
export interface BirthMetric {
  name: string;
  datatype: number;
  unit: string;
  alias?: number;
}

/** Integer datatypes and the values they hold (64-bit ones only as far as a double is exact). */
const INTEGER_RANGE: Record<number, [number, number]> = {
  [SpType.Int8]: [-128, 127],
  [SpType.Int16]: [-32_768, 32_767],
  [SpType.Int32]: [-2_147_483_648, 2_147_483_647],
  [SpType.Int64]: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  [SpType.UInt8]: [0, 255],
  [SpType.UInt16]: [0, 65_535],
  [SpType.UInt32]: [0, 4_294_967_295],
  [SpType.UInt64]: [0, Number.MAX_SAFE_INTEGER],
};

const NAMES = Object.fromEntries(Object.entries(SpType).map(([k, v]) => [v, k])) as Record<number, string>;
export const datatypeName = (datatype: number) => NAMES[datatype] ?? `datatype ${datatype}`;

/** Whether a command can set a metric of this datatype: scalars that hold a number or a switch. */
export function isWritableDatatype(datatype: number): boolean {
  return (
    datatype in INTEGER_RANGE ||
    datatype === SpType.Float ||
    datatype === SpType.Double ||
    datatype === SpType.Boolean
  );
}

/**
 * The value a datatype can hold nearest to `x`: integers rounded and range-checked, Float rounded to single
 * precision. Throws CommandRefused (NotRepresentable) when it does not fit.
 */
export function quantizeSparkplug(x: number, datatype: number): number {
  const range = INTEGER_RANGE[datatype];
  if (range) {
    const q = Math.round(x);
    if (!(q >= range[0] && q <= range[1]))
      throw new CommandRefused(
        RefusalCode.NotRepresentable,
        `${q} does not fit ${datatypeName(datatype)} (${range[0]} to ${range[1]})`,
      );
    return q === 0 ? 0 : q;
  }
  if (datatype === SpType.Float) {
    const q = Math.fround(x);
    if (!Number.isFinite(q))
      throw new CommandRefused(RefusalCode.NotRepresentable, `${x} does not fit a Float`);
    return q;
  }
  if (datatype === SpType.Double) return x;
  throw new CommandRefused(
    RefusalCode.NotRepresentable,
    `a number cannot be written to a ${datatypeName(datatype)} metric`,
  );
}

/**
 * One NCMD/DCMD metric (Sparkplug 3.0): the alias alone when the birth gave one (names are then left out),
 * else the name; the birth's datatype; the value in that datatype's field (signed integers as two's
 * complement, 32-bit and smaller in int_value, UInt32 and 64-bit in long_value, as Tahu writes them).
 */
export function commandMetric(def: BirthMetric, value: number | boolean, timeMs: number): Metric {
  const m: Metric = { datatype: def.datatype, timestamp: Long.fromNumber(timeMs, true) };
  if (def.alias !== undefined) m.alias = Long.fromNumber(def.alias, true);
  else m.name = def.name;
  if (def.datatype === SpType.Boolean) {
    if (typeof value !== 'boolean')
      throw new CommandRefused(
        RefusalCode.NotRepresentable,
        `${def.name} is a Boolean: it takes true or false`,
      );
    m.booleanValue = value;
    return m;
  }
  if (typeof value !== 'number')
    throw new CommandRefused(
      RefusalCode.NotRepresentable,
      `${def.name} is ${datatypeName(def.datatype)}: it takes a number`,
    );
  const v = quantizeSparkplug(value, def.datatype);
  switch (def.datatype) {
    case SpType.Int8:
    case SpType.Int16:
    case SpType.Int32:
      m.intValue = v >>> 0;
      break;
    case SpType.UInt8:
    case SpType.UInt16:
      m.intValue = v;
      break;
    case SpType.Int64:
      m.longValue = Long.fromNumber(v).toUnsigned();
      break;
    case SpType.UInt32:
    case SpType.UInt64:
      m.longValue = Long.fromNumber(v, true);
      break;
    case SpType.Float:
      m.floatValue = v;
      break;
    default:
      m.doubleValue = v;
  }
  return m;
}
