import { ObjectType } from '@bacnet-js/client';

/** Object types the bridge reads a present value from, by their ASHRAE 135 names. */
export const OBJECT_TYPES = [
  'analog-input',
  'analog-output',
  'analog-value',
  'binary-input',
  'binary-output',
  'binary-value',
  'multi-state-input',
  'multi-state-output',
  'multi-state-value',
  'integer-value',
  'positive-integer-value',
  'large-analog-value',
  'accumulator',
  'pulse-converter',
  'loop',
  'characterstring-value',
] as const;
export type ObjectTypeName = (typeof OBJECT_TYPES)[number];

/** Types with a UNITS property; the others (binary, multi-state, text) have none to read. */
const WITH_UNITS: ReadonlySet<ObjectTypeName> = new Set<ObjectTypeName>([
  'analog-input',
  'analog-output',
  'analog-value',
  'integer-value',
  'positive-integer-value',
  'large-analog-value',
  'accumulator',
  'pulse-converter',
  'loop',
]);

const BINARY: ReadonlySet<ObjectTypeName> = new Set<ObjectTypeName>([
  'binary-input',
  'binary-output',
  'binary-value',
]);

export function hasUnits(type: ObjectTypeName): boolean {
  return WITH_UNITS.has(type);
}

/** A binary object's present value is the enumeration inactive (0) / active (1): a boolean sample. */
export function isBinary(type: ObjectTypeName): boolean {
  return BINARY.has(type);
}

/** An enum key of @bacnet-js/client as its ASHRAE 135 name: DEGREES_CELSIUS → degrees-celsius. */
export function kebabOf(enumKey: string): string {
  return enumKey.toLowerCase().replace(/_/g, '-');
}

/** The ObjectType number of a type name: analog-input → 0. */
export function objectTypeOf(name: ObjectTypeName): number {
  return ObjectType[name.toUpperCase().replace(/-/g, '_') as keyof typeof ObjectType];
}
