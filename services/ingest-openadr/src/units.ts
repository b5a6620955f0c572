// OpenADR 3.1 `units` (units.schema.yaml) as UCUM codes, the way the fabric writes units.
import { ownValue } from '@busway/runtime';
import { PRICE_TYPES } from './payloads.js';

/** UCUM code of each unit the 3.1.0 enumeration lists, and the factor its values are multiplied by. */
const UNITS: Readonly<Record<string, { ucum: string; factor: number }>> = {
  KWH: { ucum: 'kW.h', factor: 1 },
  // UCUM has no therm: 1 therm is 100,000 international BTU
  THERMS: { ucum: '10^5.[Btu_IT]', factor: 1 },
  GHG: { ucum: 'g/(kW.h)', factor: 1 },
  VOLTS: { ucum: 'V', factor: 1 },
  AMPS: { ucum: 'A', factor: 1 },
  CELSIUS: { ucum: 'Cel', factor: 1 },
  FAHRENHEIT: { ucum: '[degF]', factor: 1 },
  // OpenADR's PERCENT is a fraction (-1.0 to 1.0); the fabric's % is per hundred
  PERCENT: { ucum: '%', factor: 100 },
  KW: { ucum: 'kW', factor: 1 },
  KVAH: { ucum: 'kV.A.h', factor: 1 },
  // reactive power: UCUM has no var; the annotation keeps it apart from apparent power
  KVARH: { ucum: 'kV.A{r}.h', factor: 1 },
  KVA: { ucum: 'kV.A', factor: 1 },
  KVAR: { ucum: 'kV.A{r}', factor: 1 },
};

/** UCUM codes a price may be per: quantities, not temperatures or ratios. */
const PER_UNIT = new Set(['kW.h', '10^5.[Btu_IT]', 'V', 'A', 'kW', 'kV.A.h', 'kV.A{r}.h', 'kV.A', 'kV.A{r}']);

/** Units a payload type has without a descriptor. */
const IMPLIED: Readonly<Record<string, string>> = { GHG: 'GHG', CONTROL_LEVEL_OFFSET_PERCENT: 'PERCENT' };

/** A UCUM annotation holds printable ASCII without braces or spaces: anything else becomes `_`. */
const annotation = (text: string) => `{${text.trim().replace(/[^\x21-\x7a\x7c\x7e]/g, '_')}}`;

/**
 * The UCUM unit of a payload's values and the factor to apply to them. Prices are per unit of what the
 * descriptor names: `{USD}/(kW.h)`. A unit outside the enumeration (the document allows private ones) is
 * kept as a UCUM annotation, `{…}`, so it is never mistaken for a known unit.
 */
export function ucumOf(
  payloadType: string,
  units: string | null | undefined,
  currency: string | null | undefined,
): { unit: string; factor: number } {
  const source = units?.trim() ? units : ownValue(IMPLIED, payloadType);
  const known = source ? ownValue(UNITS, source.toUpperCase()) : undefined;
  const base = known ?? (source ? { ucum: annotation(source), factor: 1 } : { ucum: '', factor: 1 });
  if (!PRICE_TYPES.has(payloadType)) return { unit: base.ucum, factor: base.factor };
  const money = currency ? annotation(currency) : '';
  if (!base.ucum) return { unit: money, factor: 1 };
  // UCUM cannot divide by a temperature or a percent (special units): such a price is kept as an annotation
  if (!PER_UNIT.has(base.ucum) && known)
    return { unit: annotation(`${currency ?? ''}/${source ?? ''}`), factor: 1 };
  return { unit: `${money || '1'}/(${base.ucum})`, factor: 1 };
}

/** The UCUM codes of the enumeration, for tests. */
export const KNOWN_UNITS = Object.keys(UNITS);
