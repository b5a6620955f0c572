import { EngineeringUnits } from '@bacnet-js/client';
import { kebabOf } from './object-types.js';

const UNIT_KEYS = EngineeringUnits as unknown as Record<number, unknown>;

/**
 * The ASHRAE 135 name of an EngineeringUnits value (62 → 'degrees-celsius'): the spelling the normalizer maps to
 * UCUM. Undefined for a number outside the library's enumeration, e.g. a vendor's proprietary units.
 */
export function unitNameOf(units: number): string | undefined {
  if (!Number.isInteger(units)) return undefined;
  const key = UNIT_KEYS[units];
  return typeof key === 'string' ? kebabOf(key) : undefined;
}
