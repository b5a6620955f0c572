import { canonicalUnitOf } from '@busway/proto';
import { conversion, toUcum } from '@busway/normalizer';
import { CommandRefused, RefusalCode } from './errors.js';

// The normalizer's own spellings table and ucum-lhc conversions: what is written converts back exactly as
// what is read, so a setpoint and its readback can never disagree on units.

/** A command's value in the metric's canonical unit; `unit` '' means it is in the canonical unit already. */
export function commandToCanonical(value: number, unit: string, metric: string): number {
  const canonical = canonicalUnitOf(metric);
  if (canonical === undefined)
    throw new CommandRefused(RefusalCode.UnitMismatch, `metric ${metric} has no known quantity kind`);
  if (unit === '' || unit === canonical) return value;
  if (canonical === '') {
    if (toUcum(unit) === '1') return value;
    throw new CommandRefused(
      RefusalCode.UnitMismatch,
      `metric ${metric} has no unit; the command gives '${unit}'`,
    );
  }
  const from = toUcum(unit);
  if (from === null)
    throw new CommandRefused(RefusalCode.UnitMismatch, `unit '${unit}' is neither UCUM nor a known spelling`);
  const c = conversion(from, canonical);
  if (typeof c === 'string')
    throw new CommandRefused(
      RefusalCode.UnitMismatch,
      `unit '${unit}' does not fit ${metric} (${canonical}): ${c}`,
    );
  return value * c.scale + c.offset;
}

/**
 * The inverse of the normalizer's path for a point (source value × registry scale, then source unit →
 * canonical): a canonical setpoint as the source must receive it.
 */
export function canonicalToSource(value: number, metric: string, sourceUnit: string, scale = 1): number {
  const canonical = canonicalUnitOf(metric);
  if (canonical === undefined)
    throw new CommandRefused(RefusalCode.UnitMismatch, `metric ${metric} has no known quantity kind`);
  if (canonical === '') return value / scale;
  if (sourceUnit === '')
    throw new CommandRefused(
      RefusalCode.UnitMismatch,
      `the source gives no unit for ${metric} and the registry none: the value cannot be converted safely`,
    );
  const to = toUcum(sourceUnit);
  if (to === null)
    throw new CommandRefused(
      RefusalCode.UnitMismatch,
      `source unit '${sourceUnit}' is neither UCUM nor a known spelling`,
    );
  const c = conversion(canonical, to);
  if (typeof c === 'string')
    throw new CommandRefused(
      RefusalCode.UnitMismatch,
      `source unit '${sourceUnit}' does not fit ${metric}: ${c}`,
    );
  return (value * c.scale + c.offset) / scale;
}

/** What the normalizer makes of a source value: the forward path, for round trips and delivered-value checks. */
export function sourceToCanonical(value: number, metric: string, sourceUnit: string, scale = 1): number {
  const canonical = canonicalUnitOf(metric);
  if (canonical === undefined || canonical === '') return value * scale;
  const from = toUcum(sourceUnit);
  const c = from === null ? 'unknown unit' : conversion(from, canonical);
  if (typeof c === 'string')
    throw new CommandRefused(
      RefusalCode.UnitMismatch,
      `source unit '${sourceUnit}' does not fit ${metric}: ${c}`,
    );
  return value * scale * c.scale + c.offset;
}
