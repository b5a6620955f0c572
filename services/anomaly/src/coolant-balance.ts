import type { busway } from '@busway/proto';
import type { Registry } from '@busway/registry';
import type { EngineOptions } from './config.js';

type BalanceOptions = Pick<
  EngineOptions,
  | 'coolantCpJPerKgK'
  | 'coolantDensityKgPerL'
  | 'coolantTimeConstantMs'
  | 'coolantTransportDelayMs'
  | 'physicsStaleMs'
>;

interface Reading {
  v: number;
  t: number;
}

/** Heat-balance state of one CDU: fixed size (the delay line has DELAY_SLOTS entries). */
interface CduState {
  supply?: Reading;
  flow?: Reading;
  lagW: number;
  lastT: number;
  startT: number;
  delayT: Float64Array;
  delayW: Float64Array;
  next: number;
}

const DELAY_SLOTS = 16;

/** The result of one heat-balance check on a CDU's return temperature. */
export interface BalanceCheck {
  /** Seen minus expected coolant ΔT, K. */
  residualK: number;
  expectedDeltaK: number;
  observedDeltaK: number;
  expectedReturnC: number;
  heatW: number;
  flowLpm: number;
}

/**
 * Q = ṁ·cp·ΔT on every CDU: the heat its racks put in (the sum of their PDUs' active power, through the
 * registry's `cools` topology) must come back as the coolant's rise at the measured flow. The heat reaches the
 * return sensor after a transport delay and a first-order lag. What does not fit (a drifting or stuck
 * temperature or flow sensor, unmetered heat, a bypass) shows as a residual, which the caller scores like any
 * series. Memory: one entry per CDU and per PDU of the registry.
 */
export class CoolantBalance {
  private readonly cdus = new Map<string, CduState>();
  private readonly pduPower = new Map<string, Reading>();
  private topology?: { version: number; pdusOfCdu: Map<string, string[]> };

  constructor(
    private readonly opts: BalanceOptions,
    private readonly registry: () => Registry | undefined,
  ) {}

  /** Records what the balance needs from a sample; returns a check on a CDU return-temperature sample. */
  observe(path: busway.v1.IUnsPath, metric: string, tMs: number, x: number): BalanceCheck | undefined {
    if (path.assetClass === 'pdu' && metric === 'power.active') {
      this.pduPower.set(path.asset ?? '', { v: x, t: tMs });
      return undefined;
    }
    if (path.assetClass !== 'cdu') return undefined;
    const cdu = path.asset ?? '';
    if (metric === 'temperature.coolant.supply') this.state(cdu, tMs).supply = { v: x, t: tMs };
    else if (metric === 'flow.coolant') this.state(cdu, tMs).flow = { v: x, t: tMs };
    else if (metric === 'temperature.coolant.return') return this.check(cdu, tMs, x);
    return undefined;
  }

  private state(cdu: string, tMs: number): CduState {
    let s = this.cdus.get(cdu);
    if (!s) {
      s = {
        lagW: Number.NaN,
        lastT: tMs,
        startT: tMs,
        delayT: new Float64Array(DELAY_SLOTS).fill(Number.NaN),
        delayW: new Float64Array(DELAY_SLOTS),
        next: 0,
      };
      this.cdus.set(cdu, s);
    }
    return s;
  }

  private check(cdu: string, tMs: number, returnC: number): BalanceCheck | undefined {
    const s = this.state(cdu, tMs);
    const { opts } = this;
    const fresh = (r?: Reading) => r !== undefined && Math.abs(tMs - r.t) <= opts.physicsStaleMs;
    if (!fresh(s.supply) || !fresh(s.flow)) return undefined;
    const heatW = this.heatW(cdu, tMs);
    if (heatW === undefined) return undefined;
    s.delayT[s.next] = tMs;
    s.delayW[s.next] = heatW;
    s.next = (s.next + 1) % DELAY_SLOTS;
    const delayedW = this.delayed(s, tMs - opts.coolantTransportDelayMs);
    if (Number.isNaN(s.lagW)) {
      s.lagW = delayedW;
      s.startT = tMs;
    } else {
      const dt = Math.max(0, tMs - s.lastT);
      const k = opts.coolantTimeConstantMs > 0 ? 1 - Math.exp(-dt / opts.coolantTimeConstantMs) : 1;
      s.lagW += k * (delayedW - s.lagW);
    }
    s.lastT = tMs;
    // until the lag has settled from its first guess, the expected ΔT is not trustworthy
    if (tMs - s.startT < 3 * opts.coolantTimeConstantMs + opts.coolantTransportDelayMs) return undefined;
    const flowLpm = (s.flow as Reading).v;
    const kgPerS = (flowLpm / 60) * opts.coolantDensityKgPerL;
    if (!(kgPerS > 0.01)) return undefined; // no flow: the balance says nothing
    const expectedDeltaK = s.lagW / (kgPerS * opts.coolantCpJPerKgK);
    const supplyC = (s.supply as Reading).v;
    const observedDeltaK = returnC - supplyC;
    return {
      residualK: observedDeltaK - expectedDeltaK,
      expectedDeltaK,
      observedDeltaK,
      expectedReturnC: supplyC + expectedDeltaK,
      heatW,
      flowLpm,
    };
  }

  /** The heat the CDU's racks put in now, or undefined while any of their PDUs is unknown or stale. */
  private heatW(cdu: string, tMs: number): number | undefined {
    const pdus = this.pdusOf(cdu);
    if (pdus.length === 0) return undefined;
    let sum = 0;
    for (const id of pdus) {
      const r = this.pduPower.get(id);
      if (!r || Math.abs(tMs - r.t) > this.opts.physicsStaleMs) return undefined;
      sum += r.v;
    }
    return sum;
  }

  /** The newest heat recorded at or before `tMs` (the oldest when none is that old yet). */
  private delayed(s: CduState, tMs: number): number {
    let bestT = -Infinity;
    let oldestT = Infinity;
    let best = Number.NaN;
    let oldest = 0;
    for (let i = 0; i < DELAY_SLOTS; i++) {
      const t = s.delayT[i]!;
      if (Number.isNaN(t)) continue;
      if (t <= tMs && t > bestT) {
        bestT = t;
        best = s.delayW[i]!;
      }
      if (t < oldestT) {
        oldestT = t;
        oldest = s.delayW[i]!;
      }
    }
    return Number.isNaN(best) ? oldest : best;
  }

  private pdusOf(cdu: string): string[] {
    const reg = this.registry();
    if (!reg) return [];
    if (this.topology?.version !== reg.version) {
      const pdusOfRack = new Map<string, string[]>();
      for (const a of reg.model.assets)
        if (a.class === 'pdu') pdusOfRack.set(a.rack, [...(pdusOfRack.get(a.rack) ?? []), a.id]);
      const pdusOfCdu = new Map<string, string[]>();
      for (const a of reg.model.assets)
        if (a.class === 'cdu' && a.cools.length > 0)
          pdusOfCdu.set(
            a.id,
            a.cools.flatMap((r) => pdusOfRack.get(r) ?? []),
          );
      this.topology = { version: reg.version, pdusOfCdu };
    }
    return this.topology.pdusOfCdu.get(cdu) ?? [];
  }
}
