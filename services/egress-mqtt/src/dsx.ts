// The DSX Exchange BMS contract as a publisher sees it: `BMS/v1/{integration}/Value/{objectType}/{pointType}/{tagPath}`
// with the value payload `{ value, timestamp, quality }` (bms.yaml, components.messages.ValueMessage).
import type { busway } from '@busway/proto';

/** Point types the contract allows per object type family (bms.yaml, the Value channels' pointType enums). */
const RACK = [
  'RackLiquidSupplyTemperature',
  'RackLiquidReturnTemperature',
  'RackLiquidFlow',
  'RackLiquidDifferentialPressure',
  'RackLiquidDifferentialPressureSp',
  'RackControlValvePosition',
  'RackPower',
  'RackLeakDetect',
  'RackLeakSensorFault',
  'RackLiquidIsolationStatus',
  'RackElectricalIsolationStatus',
];
const POWER_METER = [
  'Voltage',
  'PowerFactor',
  'Frequency',
  'ApparentPower',
  'ActivePower',
  'Current',
  'CurrentLimit',
  'PhaseCurrent',
  'GenericPoint',
];
const EQUIPMENT = [
  'LiquidTemperature',
  'LiquidDifferentialPressure',
  'LiquidFlow',
  'LiquidPressure',
  'Status',
  'Available',
  'ValvePosition',
  'PumpSpeed',
  'FanSpeed',
  'DamperPosition',
  'AirTemperature',
  'AirDifferentialPressure',
  'AirRelativeHumidity',
  'AirFlow',
  'AirPressure',
  'LeakDetect',
  'GenericPoint',
];

/** Object types this mapping publishes, and the point types each accepts. */
export const DSX_POINT_TYPES: Record<string, readonly string[]> = {
  Rack: RACK,
  PowerMeter: POWER_METER,
  CDU: EQUIPMENT,
  CRAH: EQUIPMENT,
  CRAC: EQUIPMENT,
  AHU: EQUIPMENT,
};

/** Asset class → object type; a class not listed is not published DSX-style (counted as not-mapped). */
export const DEFAULT_OBJECT_TYPES: Record<string, string> = {
  rack: 'Rack',
  cdu: 'CDU',
  crah: 'CRAH',
  crac: 'CRAC',
  ahu: 'AHU',
  busway: 'PowerMeter',
  tap: 'PowerMeter',
  pdu: 'PowerMeter',
  meter: 'PowerMeter',
  rpp: 'PowerMeter',
};

/**
 * Taxonomy metric (or a dotted prefix of it) → point type; `<ObjectType>:<metric>` keys win for that object type.
 * The longest matching prefix wins, so `temperature.coolant.supply` on a rack finds `Rack:temperature.coolant.supply`.
 */
export const DEFAULT_POINT_TYPES: Record<string, string> = {
  'Rack:temperature.coolant.supply': 'RackLiquidSupplyTemperature',
  'Rack:temperature.coolant.return': 'RackLiquidReturnTemperature',
  'Rack:flow.coolant': 'RackLiquidFlow',
  'Rack:pressure.coolant.differential': 'RackLiquidDifferentialPressure',
  'Rack:position.valve': 'RackControlValvePosition',
  'Rack:power.active': 'RackPower',
  'Rack:state.leak': 'RackLeakDetect',
  'power.active': 'ActivePower',
  'power.apparent': 'ApparentPower',
  'current.total': 'Current',
  'current.limit': 'CurrentLimit',
  'current.l1': 'PhaseCurrent',
  'current.l2': 'PhaseCurrent',
  'current.l3': 'PhaseCurrent',
  voltage: 'Voltage',
  frequency: 'Frequency',
  'ratio.power-factor': 'PowerFactor',
  'temperature.coolant': 'LiquidTemperature',
  'temperature.facility-water': 'LiquidTemperature',
  'flow.coolant': 'LiquidFlow',
  'flow.facility-water': 'LiquidFlow',
  'pressure.coolant.differential': 'LiquidDifferentialPressure',
  'pressure.facility-water.differential': 'LiquidDifferentialPressure',
  'pressure.coolant': 'LiquidPressure',
  'pressure.facility-water': 'LiquidPressure',
  'position.valve': 'ValvePosition',
  'speed.pump': 'PumpSpeed',
  'speed.fan': 'FanSpeed',
  'temperature.air': 'AirTemperature',
  'pressure.air.differential': 'AirDifferentialPressure',
  'humidity.relative': 'AirRelativeHumidity',
  'flow.air': 'AirFlow',
  'state.leak': 'LeakDetect',
  'state.running': 'Status',
};

/** The point type of a metric on an object type: the longest configured prefix, else GenericPoint where allowed. */
export function pointTypeOf(
  objectType: string,
  metric: string,
  table: Record<string, string>,
  allowed: readonly string[] | undefined,
): string | undefined {
  const tokens = metric.split('.');
  for (let n = tokens.length; n > 0; n--) {
    const prefix = tokens.slice(0, n).join('.');
    const pt = table[`${objectType}:${prefix}`] ?? table[prefix];
    if (pt !== undefined && (!allowed || allowed.includes(pt))) return pt;
  }
  return allowed?.includes('GenericPoint') ? 'GenericPoint' : undefined;
}

/** The contract's value payload. `value` is null when there is no valid number (a text, NaN, no value). */
export interface DsxValue {
  value: number | null;
  timestamp: number;
  quality: number;
}

const QUALITY_GOOD = 1;

/** A sample as the contract's value payload: booleans as 1/0, quality 1 only for good samples. */
export function dsxValueOf(s: busway.v1.ISample, timestampMs: number): DsxValue | undefined {
  let value: number | null = null;
  if (s.doubleValue != null) value = Number.isFinite(s.doubleValue) ? s.doubleValue : null;
  else if (s.intValue != null) value = Number(s.intValue.toString());
  else if (s.boolValue != null) value = s.boolValue ? 1 : 0;
  else if (s.stringValue != null) return undefined; // text has no place in a number-or-null payload
  return { value, timestamp: timestampMs, quality: value !== null && s.quality === QUALITY_GOOD ? 1 : 0 };
}
