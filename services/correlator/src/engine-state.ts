// The correlation engine's state as plain data: a checkpoint is its JSON, a restore is its parse.
import type { busway } from '@busway/proto';
import type { SeriesData } from './series.js';

/** A step between two consecutive samples of a power series, timed at their midpoint. */
export interface PowerStep {
  asset: string;
  rack: string;
  t: number;
  /** Change, W (negative for a drop). */
  dp: number;
  /** Time between the two samples: the step lies somewhere in it (absent in checkpoints from before). */
  gapMs?: number;
  /** The job-chain rule whose chain claimed it. */
  claimedBy?: string;
}

export interface PowerWatch {
  asset: string;
  target: number;
  step?: PowerStep;
}

/** A thermal series expected to answer the rack's power step (the anchor). */
export interface ThermalWatch {
  asset: string;
  target: number;
  anchor?: { t: number; dp: number; gapMs?: number };
  /** The answer: its onset, its delay from the anchor and that delay's standard error, its steady rise. */
  result?: { onsetT: number; delayMs: number; sdMs?: number; rise: number };
  done: boolean;
}

export interface RackWatch {
  rack: string;
  path: busway.v1.IUnsPath;
  power: PowerWatch[];
  thermal: ThermalWatch[];
}

/** An open chain: a job's racks (job-chain rules) or an unexplained power step (followed thermally). */
export interface ChainWindow {
  id: string;
  rule: string;
  kind: string;
  /** The cause's time: the job event's, or the unexplained step's. */
  t: number;
  /** The job event's clock step: it happened within this much after `t` (its source truncates). */
  causeResolutionMs?: number;
  eventId?: string;
  jobId?: string;
  racks: RackWatch[];
  /** Power steps are accepted until this time. */
  powerUntil: number;
  /** Closed at the latest when the watermark passes this. */
  closesAt: number;
}

/** A rising step no job claimed yet: decided once no job stamped up to `decideAt` can claim it. */
export interface PendingStep {
  step: PowerStep;
  rule: string;
  decideAt: number;
}

export interface GridWindow {
  id: string;
  rule: string;
  eventId: string;
  signalType: string;
  value: number;
  unit: string;
  program: string;
  start: number;
  end: number;
  baseline?: number;
  /** First facility sample of the current run beyond the threshold, and the one before it. */
  runStart?: number;
  runPrev?: number;
  result?: { t: number; magnitude: number };
  partial: boolean;
}

export interface EngineState {
  series: Record<string, SeriesData>;
  /** Recent load steps (up and down) per rack, for claims and thermal load models. */
  steps: Record<string, PowerStep[]>;
  chains: ChainWindow[];
  pending: PendingStep[];
  /** Per series: no new unexplained-rise check before this time. */
  cooldowns: Record<string, number>;
  grid: GridWindow[];
  /** Facility meters' last values and the facility load they sum to. */
  meters: Record<string, number>;
  facility: SeriesData;
  facilityPending?: { t: number };
  /** What each thermal series has shown of its load: dead time and gain, learned from matched chains. */
  models: Record<string, ThermalModel>;
}

export interface ThermalModel {
  /** The pooled delay of first-order answers; else the middle of delaySpanMs. */
  delayMs: number;
  /** The delays nearest to all recent matches' fitted ranges (absent in checkpoints of old). */
  delaySpanMs?: [number, number];
  /**
   * Width of the prior on the next event's delay, measured from how the recent matches scatter beyond their own
   * standard errors (first-order answers, once there are enough; absent: the rule's delayPriorSdMs).
   */
  delaySdMs?: number;
  /**
   * The loop flow the delays are stated at (a loop's delay is its volume over the flow carrying the heat): that
   * of the first match whose flow was known. Absent without a flow metric, and in checkpoints of old.
   */
  flowRef?: number;
  /** Median of the recent matches: robust to a match a fault disturbed. */
  gainPerKw: number;
  n: number;
  /**
   * The last matches: [lowest delay ms, gain per kW, residual RMS, highest delay ms, delay standard error ms],
   * the delays those data alone fitted (a range for a step answer between two samples; the highest absent where
   * it is the lowest; the standard error absent in checkpoints of old).
   */
  recent: [number, number, number, number?, number?][];
}

export function emptyState(): EngineState {
  return {
    series: {},
    steps: {},
    chains: [],
    pending: [],
    cooldowns: {},
    grid: [],
    meters: {},
    facility: { asset: 'facility', metric: 'power.active', t: [], v: [] },
    models: {},
  };
}
