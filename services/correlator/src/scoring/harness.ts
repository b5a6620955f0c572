// Offline scoring: the simulator's plant, the real normalizer, a network that reorders and repeats, and the
// correlator's own partition core, all advanced without real time.
import { busway, EventTypes, Subjects, msFromTimeNs, timeNsFromMs, Long } from '@busway/proto';
import { parseSiteModel, Registry } from '@busway/registry';
import { Prng } from '@busway/runtime';
import { Deadband, enrichJob, normalizeBatch, SampleNormalizer } from '@busway/normalizer';
import {
  buildSiteModel,
  jobEventBatch,
  PlantSim,
  pointIdOf,
  SimulatorConfigSchema,
  type Reading,
  type TruthEntry,
} from '@busway/simulator';
import { CorrelationEngine } from '../engine.js';
import { PartitionCore, type Outputs, type PartitionCoreOptions } from '../partition-core.js';
import { loadRules, type RuleSet } from '../rules.js';
import { Topology } from '../topology.js';

export const START_MS = 1_800_000_000_000;

export interface HarnessOptions {
  seed: number;
  /** Simulated time. */
  durationMs: number;
  /** Each message arrives after its event time plus up to this much, uniformly: reordering. */
  maxDelayMs: number;
  /** Share of messages delivered twice (the copy up to maxDelayMs later). */
  duplicateRate: number;
  /** Share of messages whose samples are sent again in another message (a bridge resending). */
  resendRate: number;
  /** Share of job starts whose event is lost: their power steps are then unexplained. */
  dropJobEventRate: number;
  /** Cooling faults injected between the simulator and the normalizer, besides the simulator's own. */
  coolingFaults: number;
  /** Simulator settings over its defaults. */
  sim?: Record<string, unknown>;
  /** Ordering settings over the defaults below. */
  ordering?: Partial<PartitionCoreOptions>;
  rules?: RuleSet;
}

export const DEFAULT_HARNESS: HarnessOptions = {
  seed: 7,
  durationMs: 15 * 60_000,
  maxDelayMs: 3000,
  duplicateRate: 0.05,
  resendRate: 0.02,
  dropJobEventRate: 0.1,
  coolingFaults: 0,
};

/** A fault the harness injected: the asset, when, and how it shows. */
export interface InjectedFault {
  asset: string;
  metric: string;
  timeMs: number;
  kind: 'coolant-return-rise' | 'air-inlet-rise';
}

export interface HarnessRun {
  truth: TruthEntry[];
  droppedJobs: Set<string>;
  faults: InjectedFault[];
  incidents: busway.v1.IIncident[];
  ordered: busway.v1.ISample[];
  late: busway.v1.ISample[];
  samplesIn: number;
  messages: number;
  duplicates: number;
  registry: Registry;
  startMs: number;
  endMs: number;
  core: PartitionCore;
}

export const DEFAULT_ORDERING: PartitionCoreOptions = {
  outOfOrdernessMs: 3000,
  allowedLatenessMs: 0,
  idleTimeoutMs: 3000,
  maxSourceLagMs: 30_000,
  emitSlotMs: 10,
  dedupDepth: 32,
  maxKeys: 100_000,
  maxBuffered: 500_000,
  partition: 0,
  partitionCount: 1,
  partitionBy: 'row',
};

type Message = DeliveredMessage;

/** What goes into the correlator: NORM messages in arrival order (reordered, repeated), and the truth. */
export interface Scenario {
  truth: TruthEntry[];
  droppedJobs: Set<string>;
  faults: InjectedFault[];
  /** NORM messages in arrival order; a message's stream sequence is its index + 1. */
  delivered: DeliveredMessage[];
  registry: Registry;
  startMs: number;
  endMs: number;
}

export interface DeliveredMessage {
  subject: string;
  type: string;
  data: Uint8Array;
  arrivalMs: number;
}

/** The plant, the faults and the network: what the correlator will be given. */
export function buildScenario(opts: HarnessOptions = DEFAULT_HARNESS): Scenario {
  const rng = new Prng(opts.seed * 7919 + 1);
  const simConfig = SimulatorConfigSchema.parse({ site: 'ai1', seed: opts.seed, ...opts.sim });
  const registry = new Registry(parseSiteModel(buildSiteModel(simConfig)), 1);
  const sim = new PlantSim(simConfig, START_MS);
  const endMs = START_MS + opts.durationMs;
  const out = sim.advanceTo(endMs);
  const faults = planFaults(rng, opts, sim.plant.rows, endMs);
  applyFaults(out.readings, faults);
  const dropped = new Set(
    out.events.filter((e) => e.phase === 'started' && rng.next() < opts.dropJobEventRate).map((e) => e.jobId),
  );
  const messages = normMessages(registry, sim, out.readings, out.events, dropped);
  return {
    truth: out.truth,
    droppedJobs: dropped,
    faults,
    delivered: network(rng, messages, opts),
    registry,
    startMs: START_MS,
    endMs,
  };
}

/** A partition core over a scenario's registry with the harness's ordering settings. */
export function harnessCore(
  scenario: Scenario,
  opts: Pick<HarnessOptions, 'ordering' | 'rules'> = {},
): PartitionCore {
  const topo = new Topology(scenario.registry);
  const engine = new CorrelationEngine(opts.rules ?? loadRules(), () => topo, 'ai1');
  return new PartitionCore({ ...DEFAULT_ORDERING, ...opts.ordering }, engine, 1);
}

/** Feeds delivered messages [from, to) to a core at their arrival times (or at `nowMs`), flushing after each. */
export function feed(
  core: PartitionCore,
  delivered: DeliveredMessage[],
  from: number,
  to: number,
  nowMs?: number,
): Outputs[] {
  const out: Outputs[] = [];
  for (let i = from; i < to; i++) {
    const m = delivered[i] as DeliveredMessage;
    const now = nowMs ?? m.arrivalMs;
    const r = core.ingest({ input: 0, seq: i + 1, subject: m.subject, type: m.type }, m.data, now);
    if (r.kind === 'poison') throw new Error(`harness message rejected: ${r.message}`);
    out.push(core.flush(now));
  }
  return out;
}

/** Runs the plant, the faults, the network and the correlator; returns what came out beside the truth. */
export function runHarness(
  opts: HarnessOptions = DEFAULT_HARNESS,
  scenario = buildScenario(opts),
): HarnessRun {
  const core = harnessCore(scenario, opts);
  const { delivered } = scenario;
  const outputs = feed(core, delivered, 0, delivered.length);
  const last = delivered.at(-1)?.arrivalMs ?? scenario.endMs;
  outputs.push(core.flush(last + 10_000)); // every source idle: the rest leaves
  const incidents = outputs.flatMap((o) => o.incidents);
  incidents.push(...core.engine.advance(Number.POSITIVE_INFINITY)); // the stream ended: close what is open
  return {
    truth: scenario.truth,
    droppedJobs: scenario.droppedJobs,
    faults: scenario.faults,
    incidents,
    ordered: outputs.flatMap((o) => o.ordered.flatMap((b) => b.items.map((r) => r.sample))),
    late: outputs.flatMap((o) => o.late.flatMap((b) => b.items.map((r) => r.sample))),
    samplesIn: core.stats.samplesIn,
    messages: delivered.length,
    duplicates: core.buffer.duplicates,
    registry: scenario.registry,
    startMs: scenario.startMs,
    endMs: scenario.endMs,
    core,
  };
}

function planFaults(
  rng: Prng,
  opts: HarnessOptions,
  rows: { cdu: string; racks: { sensor: string }[] }[],
  endMs: number,
): InjectedFault[] {
  const faults: InjectedFault[] = [];
  // one per slot of the run after the first minute, at a random time that leaves 90 s to the next slot
  const slot = (endMs - START_MS - 60_000) / Math.max(1, opts.coolingFaults);
  for (let i = 0; i < opts.coolingFaults; i++) {
    const timeMs =
      Math.round((START_MS + 60_000 + i * slot + rng.between(0, Math.max(0, slot - 90_000))) / 100) * 100;
    const row = rng.pick(rows);
    if (rng.next() < 0.5)
      faults.push({
        asset: row.cdu,
        metric: 'temperature.coolant.return',
        timeMs,
        kind: 'coolant-return-rise',
      });
    else
      faults.push({
        asset: rng.pick(row.racks).sensor,
        metric: 'temperature.air.inlet',
        timeMs,
        kind: 'air-inlet-rise',
      });
  }
  return faults;
}

/** A cooling fault: the CDU return climbs 2 °C (first order, 20 s) for a minute; an inlet jumps 4 °C for 20 s. */
function applyFaults(readings: Reading[], faults: InjectedFault[]): void {
  for (const f of faults)
    for (const r of readings) {
      const dt = r.timeMs - f.timeMs;
      if (dt < 0) continue;
      if (f.kind === 'coolant-return-rise' && r.device.id === f.asset && r.name === 'Coolant/Return Temp') {
        const rise =
          dt <= 60_000
            ? 2 * (1 - Math.exp(-dt / 20_000))
            : 2 * (1 - Math.exp(-3)) * Math.exp(-(dt - 60_000) / 20_000);
        r.value = Math.round((r.value + rise) * 100) / 100;
      }
      if (
        f.kind === 'air-inlet-rise' &&
        r.device.id === f.asset &&
        r.name === 'Air/Inlet Temp' &&
        dt <= 20_000
      )
        r.value = Math.round((r.value + 4 * 1.8) * 100) / 100; // °F at the source
    }
}

/** What the normalizer would put on NORM: readings as Sparkplug ingest forms them, normalized for real. */
function normMessages(
  registry: Registry,
  sim: PlantSim,
  readings: Reading[],
  events: ReturnType<PlantSim['advanceTo']>['events'],
  dropped: Set<string>,
): Message[] {
  const normalizer = new SampleNormalizer(registry, 'ai1', { taiUtcOffsetS: 37, maxFutureSkewMs: 5000 });
  const deadband = new Deadband(60_000);
  // one message per edge gateway and tick, as a Sparkplug host batches a node's devices
  const byDeviceTick = new Map<string, Reading[]>();
  for (const r of readings) {
    const k = `${r.device.edge}|${r.timeMs}`;
    const list = byDeviceTick.get(k);
    if (list) list.push(r);
    else byDeviceTick.set(k, [r]);
  }
  const out: Message[] = [];
  for (const rs of byDeviceTick.values()) {
    const device = rs[0]!.device;
    const sourceId = `${sim.plant.group}/${device.edge}`;
    const raw = busway.v1.SampleBatch.encode({
      source: { protocol: 'sparkplug', sourceId, address: `spBv1.0/${sourceId}` },
      samples: rs.map((r) => ({
        pointId: pointIdOf(sim.plant, r.device, r.name),
        doubleValue: r.value,
        unit: r.device.points.find((p) => p.name === r.name)?.unit ?? '',
        eventTimeNs: timeNsFromMs(r.timeMs),
        ingestTimeNs: timeNsFromMs(r.timeMs + 5),
        clockSource: busway.v1.ClockSource.CLOCK_SOURCE_DEVICE,
        quality: busway.v1.Quality.QUALITY_GOOD,
        sequence: Long.fromNumber(r.timeMs, true),
      })),
    }).finish();
    const reporting = deadband.stage();
    const n = normalizeBatch(raw, normalizer, reporting);
    reporting.commit();
    if (n.rejected.length > 0)
      throw new Error(`normalizer rejected a simulated sample: ${n.rejected[0]?.reason.message}`);
    for (const o of n.out)
      out.push({ subject: o.subject, type: EventTypes.SampleBatch, data: o.data, arrivalMs: rs[0]!.timeMs });
  }
  for (const e of events) {
    if (dropped.has(e.jobId)) continue;
    const batch = busway.v1.EventBatch.decode(jobEventBatch(e));
    const enriched = batch.events.map((ev) => enrichJob(ev, registry));
    out.push({
      subject: Subjects.normEvents('job'),
      type: EventTypes.EventBatch,
      data: busway.v1.EventBatch.encode({ events: enriched }).finish(),
      arrivalMs: e.timeMs,
    });
  }
  return out;
}

/** Delays every message by up to maxDelayMs, delivers some twice and resends some samples in new messages. */
function network(rng: Prng, messages: Message[], opts: HarnessOptions): Message[] {
  const out: Message[] = [];
  for (const m of messages) {
    const arrivalMs = m.arrivalMs + rng.between(0, opts.maxDelayMs);
    out.push({ ...m, arrivalMs });
    if (rng.next() < opts.duplicateRate)
      out.push({ ...m, arrivalMs: arrivalMs + rng.between(0, opts.maxDelayMs) });
    if (m.type === EventTypes.SampleBatch && rng.next() < opts.resendRate) {
      const samples = busway.v1.SampleBatch.decode(m.data).samples.filter(() => rng.next() < 0.5);
      if (samples.length > 0)
        out.push({
          ...m,
          data: busway.v1.SampleBatch.encode({ samples }).finish(),
          arrivalMs: arrivalMs + rng.between(0, opts.maxDelayMs),
        });
    }
  }
  return out.sort((a, b) => a.arrivalMs - b.arrivalMs);
}

/** Event time of an incident's start, ms. */
export function startOf(i: busway.v1.IIncident): number {
  return msFromTimeNs(i.startNs);
}
