// The OpenADR 3.1 event interval payload types (event-interval-payloads.schema.yaml) and what their values are.
import { ownValue } from '@busway/runtime';

/** A value of a valuesMap: number, integer, string, boolean or point. */
export interface PayloadPoint {
  x: number;
  y: number;
}

type Rule =
  | { kind: 'number'; min?: number; max?: number; integer?: boolean; many?: boolean }
  | { kind: 'text'; minLength?: number; maxLength?: number; many?: boolean }
  | { kind: 'setpoint' }
  | { kind: 'curve' };

const num = (min?: number, max?: number): Rule => ({ kind: 'number', min, max });
const int = (min: number, max: number): Rule => ({ kind: 'number', min, max, integer: true });
const alert: Rule = { kind: 'text' };

/** Every payload type the 3.1.0 enumeration defines, with the rule its values follow. */
export const PAYLOAD_RULES: Readonly<Record<string, Rule>> = {
  SIMPLE: int(0, 3),
  PRICE: num(),
  PRICE_ALTERNATE: num(),
  CHARGE_STATE_SETPOINT: num(0),
  DISPATCH_SETPOINT: num(0),
  DISPATCH_SETPOINT_RELATIVE: num(0),
  DISPATCH_INSTRUCTION: { kind: 'text', minLength: 1, maxLength: 128, many: true },
  CONTROL_SETPOINT: { kind: 'setpoint' },
  CONTROL_LEVEL_OFFSET: int(-10, 10),
  CONTROL_LEVEL_OFFSET_PERCENT: num(-1, 1),
  EXPORT_PRICE: num(),
  GHG: num(0),
  CURVE: { kind: 'curve' },
  OLS: { kind: 'number', min: 0, max: 1, many: true },
  IMPORT_CAPACITY_SUBSCRIPTION: num(0),
  IMPORT_CAPACITY_RESERVATION: num(0),
  IMPORT_CAPACITY_RESERVATION_FEE: num(),
  IMPORT_CAPACITY_AVAILABLE: num(),
  IMPORT_CAPACITY_AVAILABLE_PRICE: num(),
  EXPORT_CAPACITY_SUBSCRIPTION: num(),
  EXPORT_CAPACITY_RESERVATION: num(0),
  EXPORT_CAPACITY_RESERVATION_FEE: num(),
  EXPORT_CAPACITY_AVAILABLE: num(),
  EXPORT_CAPACITY_AVAILABLE_PRICE: num(),
  IMPORT_CAPACITY_LIMIT: num(0),
  EXPORT_CAPACITY_LIMIT: num(0),
  ALERT_GRID_EMERGENCY: { kind: 'text', minLength: 1, maxLength: 128 },
  ALERT_BLACK_START: alert,
  ALERT_POSSIBLE_OUTAGE: alert,
  ALERT_FLEX_ALERT: alert,
  ALERT_FIRE: alert,
  ALERT_FREEZING: alert,
  ALERT_WIND: alert,
  ALERT_TSUNAMI: alert,
  ALERT_AIR_QUALITY: alert,
  ALERT_OTHER: alert,
  CTA2045_REBOOT: int(0, 1),
  CTA2045_SET_OVERRIDE_STATUS: int(0, 1),
};

/** Payload types whose value is a price per unit of what the descriptor's `units` names. */
export const PRICE_TYPES = new Set([
  'PRICE',
  'PRICE_ALTERNATE',
  'EXPORT_PRICE',
  'IMPORT_CAPACITY_RESERVATION_FEE',
  'IMPORT_CAPACITY_AVAILABLE_PRICE',
  'EXPORT_CAPACITY_RESERVATION_FEE',
  'EXPORT_CAPACITY_AVAILABLE_PRICE',
]);

/** The values of one payload, sorted by what they are. */
export interface PayloadValues {
  numbers: number[];
  texts: string[];
  points: PayloadPoint[];
}

const isPoint = (v: unknown): v is PayloadPoint =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  typeof (v as PayloadPoint).x === 'number' &&
  typeof (v as PayloadPoint).y === 'number' &&
  Number.isFinite((v as PayloadPoint).x) &&
  Number.isFinite((v as PayloadPoint).y);

const describe = (v: unknown) => (Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v);

/**
 * The payload's values read by its type's rule, or why they break it. `undefined` rule: a type the 3.1.0
 * enumeration does not define. Deviations from the enumeration's literal JSON Schema, on purpose:
 * CONTROL_SETPOINT accepts integers (the schema's oneOf of number and integer refuses every integer), and
 * CURVE accepts a flat list of points as well as a list of lists (valuesMap allows no arrays as values).
 */
export function readPayload(type: string, values: unknown): PayloadValues | string {
  const rule = ownValue(PAYLOAD_RULES, type);
  if (!rule) return `unknown payload type ${type}`;
  if (!Array.isArray(values)) return `values of ${type} must be an array, not ${describe(values)}`;
  const out: PayloadValues = { numbers: [], texts: [], points: [] };
  const one = rule.kind === 'setpoint' || ((rule.kind === 'number' || rule.kind === 'text') && !rule.many);
  if (one && values.length !== 1) return `${type} takes exactly one value, not ${values.length}`;
  if (rule.kind === 'text' && rule.many && values.length === 0) return `${type} takes at least one value`;
  for (const [i, v] of values.entries()) {
    const at = `${type} value ${i}`;
    switch (rule.kind) {
      case 'number': {
        if (typeof v !== 'number' || !Number.isFinite(v)) return `${at} must be a number, not ${describe(v)}`;
        if (rule.integer && !Number.isInteger(v)) return `${at} must be an integer, not ${v}`;
        if (rule.min !== undefined && v < rule.min) return `${at} must be >= ${rule.min}, not ${v}`;
        if (rule.max !== undefined && v > rule.max) return `${at} must be <= ${rule.max}, not ${v}`;
        out.numbers.push(v);
        break;
      }
      case 'text': {
        if (typeof v !== 'string') return `${at} must be text, not ${describe(v)}`;
        if (v.length < (rule.minLength ?? 0)) return `${at} must not be empty`;
        if (rule.maxLength !== undefined && v.length > rule.maxLength)
          return `${at} is longer than ${rule.maxLength} characters`;
        out.texts.push(v);
        break;
      }
      case 'setpoint': {
        if (typeof v === 'number' && Number.isFinite(v)) out.numbers.push(v);
        else if (typeof v === 'boolean') out.numbers.push(v ? 1 : 0);
        else if (typeof v === 'string' && v.length >= 1 && v.length <= 128) out.texts.push(v);
        else if (isPoint(v)) out.points.push({ x: v.x, y: v.y });
        else return `${at} must be a number, boolean, text of 1 to 128 characters or point`;
        break;
      }
      case 'curve': {
        const points = Array.isArray(v) ? v : [v];
        if (points.length === 0) return `${at} must hold at least one point`;
        for (const p of points) {
          if (!isPoint(p)) return `${at} must be a point {x, y} or a list of points`;
          out.points.push({ x: p.x, y: p.y });
        }
        break;
      }
    }
  }
  return out;
}
