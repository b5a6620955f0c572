import type { SimulatorConfig } from './config.js';
import { coolantRiseC, lagStep, nodePowerKw, Physics } from './physics.js';
import {
  dpFactor,
  flowFactor,
  physicalFault,
  PHYSICAL_FAULTS,
  PUMP_CURRENT,
  PUMP_NOMINAL_A,
  pumpCurrentFactor,
  sensorFault,
  sensorReading,
  type Fault,
  type FaultType,
} from './faults.js';
import { buildPlant, pointIdOf, type DeviceDef, type Plant, type RackDef } from './plant.js';
import { Prng } from '@busway/runtime';

/** A reading due for publication. */
export interface Reading {
  device: DeviceDef;
  name: string;
  value: number;
  timeMs: number;
}

export type JobPhase = 'started' | 'ended';

export interface JobEventOut {
  jobId: string;
  phase: JobPhase;
  nodes: string[];
  racks: string[];
  gpus: number;
  timeMs: number;
}

/** What really happened, for scoring later stages. */
export type TruthEntry =
  | {
      kind: 'job-start';
      timeMs: number;
      jobId: string;
      nodes: string[];
      racks: string[];
      dispatchDelayMs: number;
      powerStepW: Record<string, number>;
      coolers: string[];
      /** At the loop's usual flow; the delay its heat really took is in its `heat-arrival` entries. */
      transportDelayMs: number;
      thermalTimeConstantMs: number;
    }
  | {
      /** A job's power step reached a cooler's sensor: after the transport delay the loop's flow then gave it. */
      kind: 'heat-arrival';
      timeMs: number;
      jobId: string;
      cooler: string;
      transportDelayMs: number;
    }
  | { kind: 'job-end'; timeMs: number; jobId: string; racks: string[] }
  | {
      kind: 'fault-start' | 'fault-end';
      timeMs: number;
      fault: FaultType;
      /** The point the fault shows first on. */
      pointId: string;
      /** Every point the fault changes (the primary one first). */
      pointIds?: string[];
      /** The fault's window: from its start to when the injected effect is removed. */
      startMs?: number;
      endMs?: number;
      asset?: string;
      magnitude?: number;
      description?: string;
    };

export interface StepOutput {
  readings: Reading[];
  events: JobEventOut[];
  truth: TruthEntry[];
}

interface Job {
  id: string;
  nodes: string[];
  racks: string[];
  rampAtMs: number;
  endAtMs: number;
  ended: boolean;
}

/** A job's power step on its way through a loop: from when it steps, and the water pumped by then. */
interface HeatInTransit {
  jobId: string;
  cdu: string;
  rampAtMs: number;
  enteredPumped?: number;
}

/** Heat put into a loop, tagged with the water pumped through it by then. */
interface HeatEntry {
  kw: number;
  pumped: number;
}

export const TICK_MS = 100;

/**
 * The loop's volume from the racks to the CDU's sensor, in ticks of usual flow: plug flow, so heat arrives once
 * that much water has passed, later when the flow is low.
 */
const LOOP_TICKS = Physics.transportDelayMs / TICK_MS;

/**
 * The plant over time, advanced on a fixed 100 ms grid from `startMs`: the same seed and start give the
 * same readings, events and ground truth, whatever the wall clock does.
 */
export class PlantSim {
  readonly plant: Plant;
  private readonly rng: Prng;
  /** Chooses the physical faults and draws the pump current noise, leaving the plant's own draws as they were. */
  private readonly faultRng: Prng;
  private nowMs: number;
  private readonly utilization = new Map<string, number>();
  private readonly busyNodes = new Set<string>();
  private readonly returnC = new Map<string, number>();
  private readonly heatHistory = new Map<string, HeatEntry[]>();
  /** Water pumped through each CDU's loop since the start, in ticks of usual flow. */
  private readonly pumped = new Map<string, number>();
  private inTransit: HeatInTransit[] = [];
  /** The return temperature each CDU's loop was heading for during the tick that just ended. */
  private readonly targetC = new Map<string, number>();
  private jobs: Job[] = [];
  private faults: Fault[] = [];
  private nextJobMs: number;
  private nextFaultMs: number;
  private jobCount = 0;

  constructor(
    private readonly config: SimulatorConfig,
    readonly startMs: number,
  ) {
    this.plant = buildPlant(config);
    this.rng = new Prng(config.seed);
    this.faultRng = new Prng((config.seed ^ 0x5eed_fa17) >>> 0);
    this.nowMs = startMs;
    for (const row of this.plant.rows)
      for (const rack of row.racks)
        for (const n of rack.nodes) this.utilization.set(n, Physics.idleUtilization);
    for (const row of this.plant.rows) {
      const kw = this.rowHeatKw(row.racks);
      this.returnC.set(row.cdu, Physics.supplyTempC + coolantRiseC(kw, Physics.coolantFlowLpm));
      this.targetC.set(row.cdu, this.returnC.get(row.cdu) as number);
      this.heatHistory.set(row.cdu, [{ kw, pumped: 0 }]);
      this.pumped.set(row.cdu, 0);
    }
    this.nextJobMs = startMs + 2000 + this.rng.exponential(config.jobMeanIntervalMs);
    this.nextFaultMs =
      config.faultMeanIntervalMs > 0 ? startMs + this.rng.exponential(config.faultMeanIntervalMs) : Infinity;
  }

  get timeMs(): number {
    return this.nowMs;
  }

  /** Advances to `untilMs` (in whole ticks) and returns everything that happened on the way. */
  advanceTo(untilMs: number): StepOutput {
    const out: StepOutput = { readings: [], events: [], truth: [] };
    while (this.nowMs + TICK_MS <= untilMs) {
      this.nowMs += TICK_MS;
      this.tick(out);
    }
    return out;
  }

  private tick(out: StepOutput): void {
    const t = this.nowMs;
    if (t >= this.nextJobMs) {
      this.startJob(out);
      this.nextJobMs = t + this.rng.exponential(this.config.jobMeanIntervalMs);
    }
    if (t >= this.nextFaultMs) {
      this.startFault(out);
      this.nextFaultMs = t + this.rng.exponential(this.config.faultMeanIntervalMs);
    }
    for (const job of this.jobs) {
      if (t >= job.rampAtMs && !job.ended && t < job.endAtMs)
        for (const n of job.nodes) this.utilization.set(n, Physics.jobUtilization);
      if (t >= job.endAtMs && !job.ended) this.endJob(job, out);
    }
    this.jobs = this.jobs.filter((j) => !j.ended);
    this.updateThermal(out);
    this.emitReadings(out);
    for (const f of this.faults) if (t >= f.endMs) out.truth.push(this.truthOf('fault-end', f, f.endMs));
    this.faults = this.faults.filter((f) => t < f.endMs);
  }

  private startJob(out: StepOutput): void {
    const row = this.rng.pick(this.plant.rows);
    const first = this.rng.int(0, row.racks.length - 1);
    const racks = row.racks.slice(first, first + this.rng.int(1, 2));
    const nodes = racks.flatMap((r) => r.nodes).filter((n) => !this.busyNodes.has(n));
    if (nodes.length === 0) return;
    const id = `job-${this.config.seed}-${++this.jobCount}`;
    const dispatchDelayMs = Math.round(this.rng.between(200, 600) / TICK_MS) * TICK_MS;
    const duration = Math.max(5000, this.rng.exponential(this.config.jobMeanDurationMs));
    const job: Job = {
      id,
      nodes,
      racks: racks.map((r) => r.id),
      rampAtMs: this.nowMs + dispatchDelayMs,
      endAtMs: this.nowMs + duration,
      ended: false,
    };
    this.inTransit.push({ jobId: id, cdu: row.cdu, rampAtMs: job.rampAtMs });
    for (const n of nodes) this.busyNodes.add(n);
    this.jobs.push(job);
    const gpus = nodes.length * this.plant.gpusPerNode;
    out.events.push({ jobId: id, phase: 'started', nodes, racks: job.racks, gpus, timeMs: this.nowMs });
    const stepW = (r: RackDef) =>
      r.nodes.filter((n) => nodes.includes(n)).length *
      (nodePowerKw(Physics.jobUtilization, this.plant.gpusPerNode) -
        nodePowerKw(Physics.idleUtilization, this.plant.gpusPerNode)) *
      1000;
    out.truth.push({
      kind: 'job-start',
      timeMs: this.nowMs,
      jobId: id,
      nodes,
      racks: job.racks,
      dispatchDelayMs,
      powerStepW: Object.fromEntries(racks.map((r) => [r.id, Math.round(stepW(r))])),
      coolers: [row.cdu],
      transportDelayMs: Physics.transportDelayMs,
      thermalTimeConstantMs: Physics.thermalTimeConstantMs,
    });
  }

  private endJob(job: Job, out: StepOutput): void {
    job.ended = true;
    for (const n of job.nodes) {
      this.utilization.set(n, Physics.idleUtilization);
      this.busyNodes.delete(n);
    }
    out.events.push({
      jobId: job.id,
      phase: 'ended',
      nodes: job.nodes,
      racks: job.racks,
      gpus: job.nodes.length * this.plant.gpusPerNode,
      timeMs: this.nowMs,
    });
    out.truth.push({ kind: 'job-end', timeMs: this.nowMs, jobId: job.id, racks: job.racks });
  }

  private startFault(out: StepOutput): void {
    const candidates = this.plant.devices.filter(
      (d) => d.id.startsWith('sensor-') || d.id.startsWith('cdu-'),
    );
    const device = this.rng.pick(candidates);
    const u = this.rng.next();
    // a third are the sensor spikes and freezes of old (same draws), the rest physical or slow faults
    const fault =
      u < 1 / 3
        ? sensorFault(u < 1 / 6 ? 'spike' : 'stuck', device, this.nowMs, this.config.thermalIntervalMs)
        : physicalFault(this.faultRng.pick(PHYSICAL_FAULTS), this.plant, this.faultRng, this.nowMs);
    // one fault per device at a time, so every labelled window has one cause
    if (this.faults.some((f) => f.device === fault.device)) return;
    this.faults.push(fault);
    out.truth.push(this.truthOf('fault-start', fault, this.nowMs));
  }

  private truthOf(kind: 'fault-start' | 'fault-end', f: Fault, timeMs: number): TruthEntry {
    return {
      kind,
      timeMs,
      fault: f.type,
      pointId: pointIdOf(this.plant, f.device, f.name),
      pointIds: f.names.map((n) => pointIdOf(this.plant, f.device, n)),
      startMs: f.startMs,
      endMs: f.endMs,
      asset: f.device.id,
      magnitude: f.magnitude,
      description: f.description,
    };
  }

  private rackKw(rack: RackDef): number {
    let kw = Physics.rackOverheadKw;
    for (const n of rack.nodes) kw += nodePowerKw(this.utilization.get(n) ?? 0, this.plant.gpusPerNode);
    return kw;
  }

  private rowHeatKw(racks: RackDef[]): number {
    return racks.reduce((sum, r) => sum + this.rackKw(r), 0);
  }

  private updateThermal(out: StepOutput): void {
    for (const row of this.plant.rows) {
      const flow = flowFactor(this.faults, row.cdu, this.nowMs);
      const pumped = (this.pumped.get(row.cdu) ?? 0) + flow;
      this.pumped.set(row.cdu, pumped);
      const history = this.heatHistory.get(row.cdu) ?? [];
      history.push({ kw: this.rowHeatKw(row.racks), pumped });
      // heat reaches the CDU once the loop's volume of water has carried it there
      while (history.length > 1 && (history[1]?.pumped ?? Infinity) <= pumped - LOOP_TICKS) history.shift();
      const delayedKw = history[0]?.kw ?? 0;
      const target = Physics.supplyTempC + coolantRiseC(delayedKw, Physics.coolantFlowLpm * flow);
      // the tick that just ended was driven by the target it started with (zero-order hold): a heat step
      // that reaches the CDU now starts to show one tick later, so the data's dead time is the transport delay
      const held = this.targetC.get(row.cdu) ?? target;
      this.returnC.set(
        row.cdu,
        lagStep(this.returnC.get(row.cdu) ?? held, held, TICK_MS, Physics.thermalTimeConstantMs),
      );
      this.targetC.set(row.cdu, target);
    }
    this.heatArrivals(out);
  }

  /** Notes the water pumped when each job's power steps, and logs when that heat reaches the CDU. */
  private heatArrivals(out: StepOutput): void {
    if (this.inTransit.length === 0) return;
    this.inTransit = this.inTransit.filter((h) => {
      if (this.nowMs < h.rampAtMs) return true;
      const pumped = this.pumped.get(h.cdu) ?? 0;
      h.enteredPumped ??= pumped;
      // the same test that moves the loop's history on: the step's heat is what the CDU now receives
      if (h.enteredPumped > pumped - LOOP_TICKS) return true;
      const transportDelayMs = this.nowMs - h.rampAtMs;
      out.truth.push({
        kind: 'heat-arrival',
        timeMs: this.nowMs,
        jobId: h.jobId,
        cooler: h.cdu,
        transportDelayMs,
      });
      return false;
    });
  }

  private due(intervalMs: number): boolean {
    return (this.nowMs - this.startMs) % intervalMs === 0;
  }

  private emitReadings(out: StepOutput): void {
    const powerDue = this.due(this.config.powerIntervalMs);
    const thermalDue = this.due(this.config.thermalIntervalMs);
    if (!powerDue && !thermalDue) return;
    const noise = (sigma: number) => this.rng.gaussian() * sigma;
    const push = (device: DeviceDef, name: string, value: number) =>
      out.readings.push({ device, name, value: this.applyFault(device, name, value), timeMs: this.nowMs });
    const byId = new Map(this.plant.devices.map((d) => [d.id, d]));
    for (const row of this.plant.rows) {
      const dev = (id: string) => byId.get(id) as DeviceDef;
      if (powerDue) {
        push(dev(row.busway), 'Power/Active', round(this.rowHeatKw(row.racks) * (1 + noise(0.002)), 3));
        for (const rack of row.racks)
          push(dev(rack.pdu), 'Power/Active', round(this.rackKw(rack) * (1 + noise(0.003)), 3));
      }
      if (!thermalDue) continue;
      push(dev(row.cdu), 'Coolant/Supply Temp', round(Physics.supplyTempC + noise(0.05), 2));
      push(dev(row.cdu), 'Coolant/Return Temp', round((this.returnC.get(row.cdu) ?? 0) + noise(0.05), 2));
      const t = this.nowMs;
      const flow = Physics.coolantFlowLpm * flowFactor(this.faults, row.cdu, t);
      push(dev(row.cdu), 'Coolant/Flow', round(flow + noise(1.5), 1));
      push(
        dev(row.cdu),
        'Coolant/Differential Pressure',
        round(120 * dpFactor(this.faults, row.cdu, t) + noise(0.8), 1),
      );
      const pumpA = PUMP_NOMINAL_A * pumpCurrentFactor(this.faults, row.cdu, t);
      push(dev(row.cdu), PUMP_CURRENT, round(pumpA + this.faultRng.gaussian() * 0.05, 2));
      for (const rack of row.racks) {
        push(dev(rack.pdu), 'Voltage/L1', round(230 + noise(0.6), 1));
        const inletC = Physics.inletBaseC + Physics.inletCPerKw * (this.rackKw(rack) - 8) + noise(0.1);
        push(dev(rack.sensor), 'Air/Inlet Temp', round((inletC * 9) / 5 + 32, 2));
        for (const node of rack.nodes) {
          const u = this.utilization.get(node) ?? 0;
          push(
            dev(node),
            'Power/Input',
            round(nodePowerKw(u, this.plant.gpusPerNode) * (1 + noise(0.004)), 3),
          );
          push(dev(node), 'GPU/Utilization', round(Math.min(100, Math.max(0, u * 100 + noise(1))), 1));
        }
      }
    }
  }

  private applyFault(device: DeviceDef, name: string, value: number): number {
    return this.faults.length === 0 ? value : sensorReading(this.faults, device, name, value, this.nowMs);
  }
}

function round(v: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(v * k) / k;
}
