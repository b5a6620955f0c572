import { canonicalUnitOf, metricTokens } from '@busway/proto';
import { z } from 'zod';
import { ContractViolation, DecodeError, ownValue } from '@busway/runtime';

/** A BMS metadata payload (retained, republished every 100 s). Unknown fields are kept, not rejected. */
export const MetadataSchema = z.looseObject({
  objectType: z.string().min(1),
  pointType: z.string().min(1),
  engUnit: z.string().optional(),
  objectName: z.string().optional(),
  objectId: z.string().optional(),
  /** Assets this object serves: a busway's taps, a tap's racks, a CDU's racks. */
  servesId: z.array(z.string()).optional(),
  /** The asset this object belongs to (a rack's valve, a tap's shunt trip). */
  associateId: z.string().optional(),
  rackLocationId: z.string().optional(),
  rackLocationName: z.string().optional(),
  stateText: z.array(z.object({ value: z.number(), text: z.string() })).optional(),
  processArea: z.array(z.string()).optional(),
  phase: z.string().optional(),
  isSetpoint: z.boolean().optional(),
  /** The integration that publishes this point's values (not the BMS). */
  integration: z.string().optional(),
});
export type Metadata = z.infer<typeof MetadataSchema>;

/** A BMS value payload: `value` may be null when the BMS has no valid reading. */
export const ValueSchema = z.object({
  value: z.union([z.number(), z.boolean(), z.null()]),
  timestamp: z.number().int().nonnegative(),
  quality: z.number().int(),
});
export type BmsValue = z.infer<typeof ValueSchema>;

/** pointType → taxonomy metric, where the point type alone says what is measured. */
const BY_POINT_TYPE: Record<string, string> = {
  ActivePower: 'power.active',
  ApparentPower: 'power.apparent',
  ReactivePower: 'power.reactive',
  CurrentLimit: 'current.limit',
  Current: 'current.total',
  Frequency: 'frequency',
  Voltage: 'voltage',
  PowerFactor: 'ratio.power-factor',
  Energy: 'energy.active',
  RackPower: 'power.active',
  RackLiquidDifferentialPressure: 'pressure.coolant.differential',
  RackLiquidDifferentialPressureSp: 'pressure.coolant.differential.setpoint',
  RackLiquidFlow: 'flow.coolant',
  RackControlValvePosition: 'position.valve.control',
  RackLiquidReturnTemperature: 'temperature.coolant.return',
  RackLiquidSupplyTemperature: 'temperature.coolant.supply',
  AirRelativeHumidity: 'humidity.relative',
  AirDifferentialPressure: 'pressure.air.differential',
  Sound: 'sound.level',
};

const PHASES: Record<string, string> = { A: 'l1', B: 'l2', C: 'l3', '1': 'l1', '2': 'l2', '3': 'l3' };

/** Lower-case, dash-separated words of a CamelCase name: RackLeakDetectTray → rack-leak-detect-tray. */
const kebab = (s: string) =>
  s
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();

/** Coolant loop side from the process area: the CDU's primary side is facility water. */
function loopOf(m: Metadata): string {
  const areas = (m.processArea ?? []).map((a) => a.toLowerCase());
  return areas.includes('primary') ? 'facility-water' : 'coolant';
}

function qualifiers(m: Metadata): string[] {
  return (m.processArea ?? [])
    .map((a) => a.toLowerCase())
    .filter((a) => ['supply', 'return', 'inlet', 'outlet', 'coldaisle', 'hotaisle'].includes(a))
    .map((a) => (a === 'coldaisle' ? 'cold-aisle' : a === 'hotaisle' ? 'hot-aisle' : a));
}

/**
 * The taxonomy metric of a BMS point, from its objectType, pointType and metadata (processArea, phase,
 * stateText, isSetpoint). Points with `stateText` are discrete states. Undefined when the point type is one this
 * version does not know: the point is then delivered unregistered, never dropped.
 */
export function metricOf(m: Metadata): string | undefined {
  const metric = measuredMetricOf(m);
  // a speed or flow reported as a percentage of its maximum (a VFD command) is a ratio, not that quantity
  const canonical = metric === undefined ? undefined : canonicalUnitOf(metric);
  if (metric && m.engUnit === '%' && canonical !== '%' && canonical !== '')
    return `ratio.${kebab(m.pointType)}`;
  return metric;
}

function measuredMetricOf(m: Metadata): string | undefined {
  const setpoint = m.isSetpoint || /Sp(Request)?$/.test(m.pointType) ? ['setpoint'] : [];
  if (m.stateText && m.stateText.length > 0) {
    const name = kebab(m.pointType.replace(/^Rack/, '')).replace(/-?status$/, '') || 'status';
    const area = (m.processArea ?? []).filter((a) => !/^pod/i.test(a)).map((a) => metricTokens(kebab(a)));
    return ['state', m.objectType === 'Valve' ? `valve-${name}` : name, ...area].join('.');
  }
  switch (m.pointType) {
    case 'PhaseCurrent':
      return `current.${ownValue(PHASES, m.phase ?? '') ?? 'phase'}`;
    case 'LiquidTemperature':
    case 'LiquidTemperatureSpRequest':
      return [
        'temperature',
        loopOf(m),
        ...qualifiers(m),
        ...setpoint,
        ...(/Request$/.test(m.pointType) ? ['request'] : []),
      ].join('.');
    case 'LiquidFlow':
      return `flow.${loopOf(m)}`;
    case 'LiquidPressure':
      return ['pressure', loopOf(m), ...qualifiers(m)].join('.');
    case 'LiquidDifferentialPressure':
      return `pressure.${loopOf(m)}.differential`;
    case 'ValvePosition':
      return `position.valve.${loopOf(m) === 'facility-water' ? 'primary' : 'secondary'}`;
    case 'AirTemperature':
      return ['temperature.air', ...qualifiers(m)].join('.');
    case 'PumpSpeed':
      return 'speed.pump';
    default:
      return ownValue(BY_POINT_TYPE, m.pointType);
  }
}

/** A JSON payload checked against a schema: not JSON is a DecodeError, the wrong shape a ContractViolation. */
function parseJson<T>(
  payload: Buffer,
  schema: {
    safeParse(x: unknown): {
      success: boolean;
      data?: T;
      error?: { issues: { path: PropertyKey[]; message: string }[] };
    };
  },
  what: string,
): T {
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new DecodeError(`${what} is not JSON: ${(err as Error).message}`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error?.issues[0];
    throw new ContractViolation(
      `${what} breaks the BMS contract at '${issue?.path.join('.')}': ${issue?.message}`,
    );
  }
  return r.data as T;
}

/** A metadata payload, or the reason it is not one. */
export function parseMetadata(payload: Buffer, topic: string): Metadata {
  return parseJson<Metadata>(payload, MetadataSchema, `metadata on ${topic}`);
}

/** A value payload, or the reason it is not one. */
export function parseValue(payload: Buffer, topic: string): BmsValue {
  return parseJson<BmsValue>(payload, ValueSchema, `value on ${topic}`);
}
