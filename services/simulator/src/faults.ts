import type { Prng } from '@busway/runtime';
import type { DeviceDef, Plant } from './plant.js';

/** Faults the simulator injects, each with its ground-truth window and the points it affects. */
export type FaultType = 'spike' | 'stuck' | 'drift' | 'pump-degradation' | 'fan-failure' | 'flow-blockage';
export const PHYSICAL_FAULTS: readonly FaultType[] = [
  'drift',
  'pump-degradation',
  'fan-failure',
  'flow-blockage',
];

export interface Fault {
  type: FaultType;
  device: DeviceDef;
  /** The point the fault is first seen on (its Sparkplug name on `device`). */
  name: string;
  /** Every point of `device` the fault changes. */
  names: string[];
  startMs: number;
  endMs: number;
  /** Size: °C for a drift or a fan failure, the fraction of flow lost for a pump or a blockage. */
  magnitude: number;
  stuckValue?: number;
  description: string;
}

const SECOND = 1000;
const INLET = 'Air/Inlet Temp';
const SUPPLY = 'Coolant/Supply Temp';
const RETURN = 'Coolant/Return Temp';
const FLOW = 'Coolant/Flow';
const DP = 'Coolant/Differential Pressure';
export const PUMP_CURRENT = 'Pump/Current';
/** Pump motor current at nominal flow, A. */
export const PUMP_NOMINAL_A = 12;
/** How fast a failed rack fan's recirculation heats the inlet air. */
const FAN_TAU_MS = 30 * SECOND;
/** How fast a blockage chokes the flow. */
const BLOCKAGE_TAU_MS = 3 * SECOND;

/** The old spike or stuck sensor fault (kept as it was: same device choice and duration). */
export function sensorFault(
  type: 'spike' | 'stuck',
  device: DeviceDef,
  nowMs: number,
  thermalIntervalMs: number,
): Fault {
  const name = device.id.startsWith('sensor-') ? INLET : SUPPLY;
  const endMs = nowMs + (type === 'spike' ? thermalIntervalMs : 15 * SECOND);
  return {
    type,
    device,
    name,
    names: [name],
    startMs: nowMs,
    endMs,
    magnitude: type === 'spike' ? (name === INLET ? 40 : 15) : 0,
    description: type === 'spike' ? `one-sample spike on ${name}` : `${name} frozen at its last value`,
  };
}

/** A physical or slow fault: the device and size drawn from `rng` (the simulator's fault generator). */
export function physicalFault(type: FaultType, plant: Plant, rng: Prng, nowMs: number): Fault {
  const byId = (id: string) => plant.devices.find((d) => d.id === id) as DeviceDef;
  const cdu = () => byId(rng.pick(plant.rows).cdu);
  const sensor = () => byId(rng.pick(rng.pick(plant.rows).racks).sensor);
  const base = { startMs: nowMs };
  switch (type) {
    case 'drift': {
      const onSensor = rng.next() < 0.4;
      const device = onSensor ? sensor() : cdu();
      const name = onSensor ? INLET : rng.next() < 0.5 ? SUPPLY : RETURN;
      const magnitude = (rng.next() < 0.5 ? -1 : 1) * rng.between(1.5, 3);
      return {
        ...base,
        type,
        device,
        name,
        names: [name],
        endMs: nowMs + rng.between(120, 300) * SECOND,
        magnitude,
        description: `${name} drifts ${magnitude.toFixed(2)} °C linearly over the window (sensor error), then is recalibrated`,
      };
    }
    case 'pump-degradation': {
      const magnitude = rng.between(0.15, 0.25);
      return {
        ...base,
        type,
        device: cdu(),
        name: FLOW,
        names: [FLOW, PUMP_CURRENT, DP, RETURN],
        endMs: nowMs + rng.between(180, 360) * SECOND,
        magnitude,
        description: `pump wears: flow falls by ${(magnitude * 100).toFixed(0)} % over the window, its current rises, the head (dP) falls, the return warms; repaired at the end`,
      };
    }
    case 'fan-failure': {
      const magnitude = rng.between(4, 8);
      return {
        ...base,
        type,
        device: sensor(),
        name: INLET,
        names: [INLET],
        endMs: nowMs + rng.between(60, 180) * SECOND,
        magnitude,
        description: `rack fans fail: hot air recirculates, inlet rises toward +${magnitude.toFixed(1)} °C (tau 30 s) until repaired`,
      };
    }
    case 'flow-blockage': {
      const magnitude = rng.between(0.3, 0.5);
      return {
        ...base,
        type,
        device: cdu(),
        name: FLOW,
        names: [FLOW, DP, RETURN],
        endMs: nowMs + rng.between(30, 120) * SECOND,
        magnitude,
        description: `strainer blocks: flow drops ${(magnitude * 100).toFixed(0)} % within seconds, dP rises, coolant dT rises; cleared at the end`,
      };
    }
    default:
      throw new Error(`not a physical fault: ${type}`);
  }
}

const progress = (f: Fault, t: number) => Math.min(1, Math.max(0, (t - f.startMs) / (f.endMs - f.startMs)));
const active = (f: Fault, t: number) => t >= f.startMs && t < f.endMs;

/** Factor on a CDU's true flow (1 when healthy). */
export function flowFactor(faults: readonly Fault[], cdu: string, t: number): number {
  let k = 1;
  for (const f of faults) {
    if (f.device.id !== cdu || !active(f, t)) continue;
    if (f.type === 'pump-degradation') k *= 1 - f.magnitude * progress(f, t);
    if (f.type === 'flow-blockage') k *= 1 - f.magnitude * (1 - Math.exp(-(t - f.startMs) / BLOCKAGE_TAU_MS));
  }
  return k;
}

/** Factor on a CDU's differential pressure: a weak pump loses head (flow²), a blockage adds resistance. */
export function dpFactor(faults: readonly Fault[], cdu: string, t: number): number {
  let k = 1;
  for (const f of faults) {
    if (f.device.id !== cdu || !active(f, t)) continue;
    if (f.type === 'pump-degradation') k *= (1 - f.magnitude * progress(f, t)) ** 2;
    if (f.type === 'flow-blockage')
      k *= 1 + 1.2 * f.magnitude * (1 - Math.exp(-(t - f.startMs) / BLOCKAGE_TAU_MS));
  }
  return k;
}

/** Factor on a CDU pump's motor current: a worn pump draws more for less flow. */
export function pumpCurrentFactor(faults: readonly Fault[], cdu: string, t: number): number {
  let k = 1;
  for (const f of faults)
    if (f.device.id === cdu && active(f, t) && f.type === 'pump-degradation')
      k *= 1 + 0.8 * f.magnitude * progress(f, t);
  return k;
}

/** What a sensor reads during its faults, from the true value (°C offsets converted for °F points). */
export function sensorReading(
  faults: readonly Fault[],
  device: DeviceDef,
  name: string,
  value: number,
  t: number,
) {
  let v = value;
  const perC = name === INLET ? 1.8 : 1; // the inlet sensor reports °F
  for (const f of faults) {
    if (f.device !== device || t < f.startMs || !f.names.includes(name)) continue;
    if (f.type === 'spike') v += f.magnitude;
    else if (f.type === 'stuck') v = f.stuckValue ??= v;
    else if (f.type === 'drift' && f.name === name) v += perC * f.magnitude * progress(f, t);
    else if (f.type === 'fan-failure')
      v += perC * f.magnitude * (1 - Math.exp(-(t - f.startMs) / FAN_TAU_MS));
  }
  return v;
}
