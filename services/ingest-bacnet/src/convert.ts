import { ApplicationTag, StatusFlags } from '@bacnet-js/client';
import { busway, Long } from '@busway/proto';
import { ContractViolation } from '@busway/runtime';
import { errorNameOf } from './bacnet-errors.js';
import { isBinary, kebabOf, type ObjectTypeName } from './object-types.js';
import { unitNameOf } from './units.js';

/** One application-tagged value as the library decodes it. */
export interface AppValue {
  type: number;
  value: unknown;
}

/** A property as read: its values, or the error the device answered for it. */
export type PropertyRead = { values: AppValue[] } | { error: string };

export type SampleValue = Pick<busway.v1.ISample, 'doubleValue' | 'intValue' | 'boolValue' | 'stringValue'>;

export interface Status {
  quality: busway.v1.Quality;
  flags: string[];
}

const TAG_KEYS = ApplicationTag as unknown as Record<number, unknown>;

/** `real`, `bit-string`, `date`, … */
export function tagNameOf(type: number): string {
  const key = TAG_KEYS[type];
  return typeof key === 'string' ? kebabOf(key) : `tag ${type}`;
}

/** What a read property's values are: the library puts a per-property error in as one ERROR-tagged value. */
export function propertyReadOf(values: readonly AppValue[]): PropertyRead {
  const [first] = values;
  if (values.length === 1 && first?.type === ApplicationTag.ERROR) {
    const { errorClass, errorCode } = (first.value ?? {}) as { errorClass?: unknown; errorCode?: unknown };
    return {
      error:
        typeof errorClass === 'number' && typeof errorCode === 'number'
          ? errorNameOf(errorClass, errorCode)
          : 'an error without class and code',
    };
  }
  return { values: [...values] };
}

function single(values: readonly AppValue[], what: string): AppValue {
  const [v] = values;
  if (values.length !== 1 || !v)
    throw new ContractViolation(`${what}: expected one value, got ${values.length}`);
  return v;
}

/**
 * A present value as a sample value: REAL and DOUBLE a double, UNSIGNED and SIGNED an integer, BOOLEAN and a
 * binary object's ENUMERATED a boolean, any other ENUMERATED an integer (a state), CHARACTER_STRING a string.
 * Anything else (a date, a bit string, a non-finite REAL, …) throws a ContractViolation naming it.
 */
export function sampleValueOf(objectType: ObjectTypeName, values: readonly AppValue[]): SampleValue {
  const v = single(values, 'present-value');
  const tag = tagNameOf(v.type);
  const x = v.value;
  switch (v.type) {
    case ApplicationTag.REAL:
    case ApplicationTag.DOUBLE:
      if (typeof x === 'number' && Number.isFinite(x)) return { doubleValue: x };
      throw new ContractViolation(`present-value: ${tag} ${String(x)} is not a finite number`);
    case ApplicationTag.UNSIGNED_INTEGER:
    case ApplicationTag.SIGNED_INTEGER:
      if (typeof x === 'number' && Number.isSafeInteger(x)) return { intValue: Long.fromNumber(x) };
      throw new ContractViolation(`present-value: ${tag} ${String(x)} is not an integer`);
    case ApplicationTag.BOOLEAN:
      if (typeof x === 'boolean') return { boolValue: x };
      throw new ContractViolation(`present-value: ${tag} ${String(x)} is not a boolean`);
    case ApplicationTag.ENUMERATED:
      if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)
        throw new ContractViolation(`present-value: ${tag} ${String(x)} is not an enumeration value`);
      if (!isBinary(objectType)) return { intValue: Long.fromNumber(x) };
      if (x === 0 || x === 1) return { boolValue: x === 1 };
      throw new ContractViolation(`present-value: binary state ${x} is neither inactive (0) nor active (1)`);
    case ApplicationTag.CHARACTER_STRING:
      if (typeof x === 'string') return { stringValue: x };
      throw new ContractViolation(`present-value: ${tag} is not text`);
    default:
      throw new ContractViolation(
        `present-value: a ${tag} is not a number, boolean, enumerated or character string`,
      );
  }
}

const FLAG_NAMES: [StatusFlags, string][] = [
  [StatusFlags.IN_ALARM, 'in-alarm'],
  [StatusFlags.FAULT, 'fault'],
  [StatusFlags.OVERRIDDEN, 'overridden'],
  [StatusFlags.OUT_OF_SERVICE, 'out-of-service'],
];

function isBitString(x: unknown): x is { value: number[] } {
  const bits = (x as { value?: unknown } | null)?.value;
  return Array.isArray(bits) && bits.every((b) => Number.isInteger(b));
}

/**
 * STATUS_FLAGS as a quality: FAULT or OUT_OF_SERVICE make the value BAD (a value the device itself does not vouch
 * for); every flag set is kept by name, IN_ALARM and OVERRIDDEN on a GOOD value too.
 */
export function statusOf(values: readonly AppValue[]): Status {
  const v = single(values, 'status-flags');
  if (v.type !== ApplicationTag.BIT_STRING || !isBitString(v.value))
    throw new ContractViolation(`status-flags: a ${tagNameOf(v.type)} is not a bit string`);
  const bytes = v.value.value;
  const isSet = (bit: number) => (((bytes[Math.floor(bit / 8)] ?? 0) >> (bit % 8)) & 1) === 1;
  const flags = FLAG_NAMES.filter(([bit]) => isSet(bit)).map(([, name]) => name);
  const bad = isSet(StatusFlags.FAULT) || isSet(StatusFlags.OUT_OF_SERVICE);
  return { quality: bad ? busway.v1.Quality.QUALITY_BAD : busway.v1.Quality.QUALITY_GOOD, flags };
}

/** UNITS as a unit name; `known` is false for a number outside the enumeration (its unit is then left empty). */
export function unitOf(values: readonly AppValue[]): { name: string; known: boolean } {
  const v = single(values, 'units');
  if (v.type !== ApplicationTag.ENUMERATED || typeof v.value !== 'number')
    throw new ContractViolation(`units: a ${tagNameOf(v.type)} is not an engineering-units enumeration`);
  const name = unitNameOf(v.value);
  return { name: name ?? '', known: name !== undefined };
}
