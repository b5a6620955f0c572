import { createRequire } from 'node:module';
import { canonicalUnitOf } from '@busway/proto';
import { UnitMismatch } from '@busway/runtime';

interface UcumUtils {
  validateUnitString(unit: string): { status: string };
  convertUnitTo(from: string, value: number, to: string): { status: string; toVal?: number; msg?: string[] };
}
const require = createRequire(import.meta.url);
const ucum = (
  require('@lhncbc/ucum-lhc') as { UcumLhcUtils: { getInstance(): UcumUtils } }
).UcumLhcUtils.getInstance();

/**
 * Source spellings that are not UCUM codes, and their UCUM code: BMS `engUnit`s, common free text,
 * BACnet engineering-unit names (ASHRAE 135 enumeration) and Redfish's non-UCUM readings. The conversion
 * itself is always ucum-lhc's.
 */
const SPELLINGS: Record<string, string> = {
  // temperature (BMS engUnit "C"/"F" mean degrees, not coulomb and farad, on a temperature point)
  degC: 'Cel',
  '°C': 'Cel',
  C: 'Cel',
  degc: 'Cel',
  celsius: 'Cel',
  degF: '[degF]',
  '°F': '[degF]',
  F: '[degF]',
  degf: '[degF]',
  fahrenheit: '[degF]',
  // flow
  LPM: 'L/min',
  lpm: 'L/min',
  'l/min': 'L/min',
  'L/m': 'L/min',
  GPM: '[gal_us]/min',
  gpm: '[gal_us]/min',
  CFM: '[cft_i]/min',
  cfm: '[cft_i]/min',
  'm³/h': 'm3/h',
  // electrical
  kVA: 'kV.A',
  VA: 'V.A',
  kVAr: 'kV.A',
  kvar: 'kV.A',
  var: 'V.A',
  kWh: 'kW.h',
  Wh: 'W.h',
  MWh: 'MW.h',
  // pressure
  psi: '[psi]',
  PSI: '[psi]',
  psig: '[psi]',
  inH2O: "[in_i'H2O]",
  // ratios and speeds
  '%RH': '%',
  RH: '%',
  percent: '%',
  pct: '%',
  rpm: '/min',
  RPM: '/min',
  '{rpm}': '/min',
  '{rev}/min': '/min',
  // signal
  dBm: 'dB[mW]',
  // BACnet engineering units (by name)
  'degrees-celsius': 'Cel',
  'degrees-fahrenheit': '[degF]',
  'degrees-kelvin': 'K',
  kelvin: 'K',
  watts: 'W',
  kilowatts: 'kW',
  megawatts: 'MW',
  'kilowatt-hours': 'kW.h',
  'watt-hours': 'W.h',
  'volt-amperes': 'V.A',
  'kilovolt-amperes': 'kV.A',
  'volt-amperes-reactive': 'V.A',
  'kilovolt-amperes-reactive': 'kV.A',
  amperes: 'A',
  milliamperes: 'mA',
  volts: 'V',
  kilovolts: 'kV',
  hertz: 'Hz',
  'liters-per-minute': 'L/min',
  'liters-per-second': 'L/s',
  'us-gallons-per-minute': '[gal_us]/min',
  'cubic-feet-per-minute': '[cft_i]/min',
  'cubic-meters-per-hour': 'm3/h',
  pascals: 'Pa',
  kilopascals: 'kPa',
  bars: 'bar',
  'pounds-force-per-square-inch': '[psi]',
  'percent-relative-humidity': '%',
  'revolutions-per-minute': '/min',
  'no-units': '1',
};

const ucumCache = new Map<string, string | null>();

/** The UCUM code of a source unit string, or null when it is neither a known spelling nor valid UCUM. */
export function toUcum(unit: string): string | null {
  const cached = ucumCache.get(unit);
  if (cached !== undefined) return cached;
  const trimmed = unit.trim();
  // a unit spelled `constructor` or `toString` is no unit: ucum-lhc's tables are plain objects that
  // call such names valid and then throw on converting them, and SPELLINGS is one too
  const code =
    trimmed === '' || trimmed in Object.prototype
      ? null
      : Object.hasOwn(SPELLINGS, trimmed)
        ? (SPELLINGS[trimmed] as string)
        : ucum.validateUnitString(trimmed).status === 'valid'
          ? trimmed
          : null;
  ucumCache.set(unit, code);
  return code;
}

/** A linear conversion y = scale·x + offset (every UCUM conversion between non-log units is one). */
export interface Conversion {
  scale: number;
  offset: number;
}

const conversionCache = new Map<string, Conversion | string>();

/** The conversion between two UCUM units, from ucum-lhc, cached; a string says why there is none. */
export function conversion(from: string, to: string): Conversion | string {
  const key = `${from}\u0000${to}`;
  const cached = conversionCache.get(key);
  if (cached !== undefined) return cached;
  let result: Conversion | string;
  if (from === to) result = { scale: 1, offset: 0 };
  else {
    try {
      const at0 = ucum.convertUnitTo(from, 0, to);
      const at1 = ucum.convertUnitTo(from, 1, to);
      result =
        at0.status === 'succeeded' &&
        at1.status === 'succeeded' &&
        at0.toVal !== undefined &&
        at1.toVal !== undefined
          ? { scale: at1.toVal - at0.toVal, offset: at0.toVal }
          : (at1.msg?.join(' ') ?? `${from} cannot be converted to ${to}`);
    } catch (err) {
      // the library's own failure on a unit it had called valid: still no conversion, not a crash
      result = `${from} cannot be converted to ${to}: ${(err as Error).message}`;
    }
  }
  conversionCache.set(key, result);
  return result;
}

/**
 * Converts a value in a source unit to the metric's canonical unit. Throws UnitMismatch when the unit does
 * not parse or does not fit the quantity kind (kW on a temperature).
 */
export function toCanonical(
  value: number,
  sourceUnit: string,
  metric: string,
  pointId: string,
): { value: number; unit: string } {
  const canonical = canonicalUnitOf(metric);
  if (canonical === '') return { value, unit: sourceUnit === '' ? '' : (toUcum(sourceUnit) ?? sourceUnit) };
  const ucumCode = toUcum(sourceUnit);
  if (ucumCode === null) {
    throw new UnitMismatch(
      `unit '${sourceUnit}' of ${pointId} is not UCUM nor a known spelling (metric ${metric})`,
    );
  }
  if (!canonical) return { value, unit: ucumCode };
  const c = conversion(ucumCode, canonical);
  if (typeof c === 'string') {
    throw new UnitMismatch(
      `unit '${sourceUnit}' (${ucumCode}) of ${pointId} does not fit ${metric}, which is in ${canonical}: ${c}`,
    );
  }
  return { value: value * c.scale + c.offset, unit: canonical };
}
