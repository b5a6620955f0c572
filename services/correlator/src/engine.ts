import { busway } from '@busway/proto';
import { emptyState, type EngineState, type PowerStep } from './engine-state.js';
import { claimStep, closeChains, evaluateThermal, onJobStarted, openUnexplained } from './chains.js';
import { closeGrid, onFacilitySample, onGridSignal } from './grid.js';
import type {
  JobChainRule,
  RuleSet,
  ThermalTarget,
  UnexplainedPowerRule,
  UnexplainedThermalRule,
  GridResponseRule,
} from './rules.js';
import { pushSample, type SeriesData } from './series.js';
import { checkUnexplainedRise } from './thermal-rise.js';
import type { Topology } from './topology.js';

/** Which partition this engine serves: racks outside it are another replica's. */
export interface EngineScope {
  partition: number;
  partitionCount: number;
  ownsRack(path: busway.v1.IUnsPath): boolean;
}

/** What a watched series is for. */
interface Interest {
  series: SeriesData;
  key: string;
  rack: string;
  /** Smallest load step recorded (W); 0: not a load series. */
  stepW: number;
  thermal: boolean;
  meter: boolean;
  keepMs: number;
}

const STEP_KEEP_MS = 200_000;

/** The series a thermal target reads: its own, and its loop's flow. */
const targetMetrics = (th: ThermalTarget): string[] =>
  th.flowMetric ? [th.metric, th.flowMetric] : [th.metric];

/** Everything an engine's rule handlers share. */
export interface EngineContext {
  readonly rules: RuleSet;
  readonly jobRules: JobChainRule[];
  readonly powerRules: UnexplainedPowerRule[];
  readonly thermalRules: UnexplainedThermalRule[];
  readonly gridRules: GridResponseRule[];
  readonly site: string;
  readonly scope: EngineScope;
  state: EngineState;
  topology(): Topology;
  seriesOf(asset: string, metric: string): SeriesData | undefined;
  emit(incident: busway.v1.IIncident): void;
}

/**
 * Correlates the ordered stream by the rules: job events open chains that claim the power steps of their racks
 * and fit the thermal answer of what cools them; unclaimed steps and unexplained thermal rises become incidents
 * of their own; grid signals watch the facility load. Fed in event-time order; decisions depend only on event
 * times, so a replay from a checkpoint gives the same incidents with the same ids.
 */
export class CorrelationEngine implements EngineContext {
  state: EngineState = emptyState();
  readonly jobRules: JobChainRule[];
  readonly powerRules: UnexplainedPowerRule[];
  readonly thermalRules: UnexplainedThermalRule[];
  readonly gridRules: GridResponseRule[];
  private interest = new Map<string, Map<string, Interest | null>>();
  private readonly watchedMetrics: Set<string>;
  private topologyVersion = -1;
  private prunedAt = Number.NEGATIVE_INFINITY;
  private out: busway.v1.IIncident[] = [];

  constructor(
    readonly rules: RuleSet,
    private readonly topologyOf: () => Topology,
    readonly site: string,
    readonly scope: EngineScope = { partition: 0, partitionCount: 1, ownsRack: () => true },
  ) {
    this.jobRules = rules.rules.filter((r): r is JobChainRule => r.type === 'job-chain');
    this.powerRules = rules.rules.filter((r): r is UnexplainedPowerRule => r.type === 'unexplained-power');
    this.thermalRules = rules.rules.filter(
      (r): r is UnexplainedThermalRule => r.type === 'unexplained-thermal',
    );
    this.gridRules = rules.rules.filter((r): r is GridResponseRule => r.type === 'grid-response');
    // most samples (voltages, flows, utilizations) concern no rule: one set lookup sends them away
    this.watchedMetrics = new Set<string>([
      ...this.jobRules.flatMap((r) => [...r.power.map((p) => p.metric), ...r.thermal.flatMap(targetMetrics)]),
      ...this.powerRules.flatMap((r) => [r.watch.metric, ...r.thermal.flatMap(targetMetrics)]),
      ...this.thermalRules.flatMap((r) => r.watch.map((w) => w.metric)),
      ...this.gridRules.map((r) => r.metric),
      'power.active',
    ]);
  }

  topology(): Topology {
    const topo = this.topologyOf();
    if (topo.version !== this.topologyVersion) {
      this.topologyVersion = topo.version;
      this.interest.clear(); // the registry changed: classify series again
    }
    return topo;
  }

  seriesOf(asset: string, metric: string): SeriesData | undefined {
    return this.state.series[`${asset}|${metric}`];
  }

  emit(incident: busway.v1.IIncident): void {
    this.out.push(incident);
  }

  /** Feeds one ordered event; returns the incidents it completes. */
  onEvent(e: busway.v1.IEvent, timeMs: number): busway.v1.IIncident[] {
    if (e.job && e.job.phase === busway.v1.JobPhase.JOB_PHASE_STARTED) onJobStarted(this, e, timeMs);
    if (e.grid) onGridSignal(this, e, timeMs);
    return this.flushOut();
  }

  /** Whether samples of this metric can matter to a rule: the others need not be decoded for `onSample`. */
  watches(metric: string): boolean {
    return this.watchedMetrics.has(metric);
  }

  /** Feeds one ordered sample; returns the incidents it completes. */
  onSample(s: busway.v1.ISample, timeMs: number): busway.v1.IIncident[] {
    const metric = s.metric;
    const asset = s.path?.asset;
    if (!metric || !asset || !this.watchedMetrics.has(metric)) return [];
    const it = this.interestOf(asset, metric, s.path?.assetClass ?? '');
    if (!it) return [];
    const value = s.doubleValue ?? (s.intValue != null ? Number(s.intValue.toString()) : undefined);
    if (value === undefined || !Number.isFinite(value)) return [];
    const series = it.series;
    const prevT = series.t.at(-1);
    const prevV = series.v.at(-1);
    if (prevT !== undefined && timeMs <= prevT) return []; // a re-emitted late sample: the model moved on
    pushSample(series, timeMs, value, it.keepMs);
    if (it.stepW > 0 && prevV !== undefined && prevT !== undefined && Math.abs(value - prevV) >= it.stepW)
      this.onStep({
        asset,
        rack: it.rack,
        t: (prevT + timeMs) / 2,
        dp: value - prevV,
        gapMs: timeMs - prevT,
      });
    if (it.thermal) {
      evaluateThermal(this, asset, timeMs);
      checkUnexplainedRise(this, it.key, series, timeMs);
    }
    if (it.meter) onFacilitySample(this, asset, timeMs, value);
    return this.flushOut();
  }

  /** Closes what the watermark has passed; returns the incidents. */
  advance(watermarkMs: number): busway.v1.IIncident[] {
    const pending = this.state.pending;
    for (let i = 0; i < pending.length;) {
      const p = pending[i]!;
      if (p.decideAt > watermarkMs) {
        i++;
        continue;
      }
      pending.splice(i, 1);
      const rule = this.powerRules.find((r) => r.name === p.rule);
      if (rule && !(p.step.claimedBy && rule.explainedBy.includes(p.step.claimedBy)))
        openUnexplained(this, p.step, p.rule);
    }
    closeChains(this, watermarkMs);
    closeGrid(this, watermarkMs);
    this.prune(watermarkMs);
    return this.flushOut();
  }

  snapshot(): EngineState {
    return this.state;
  }

  restore(state: EngineState): void {
    this.state = { ...emptyState(), ...state };
    this.interest.clear();
  }

  get openWindows(): number {
    return this.state.chains.length + this.state.grid.length + this.state.pending.length;
  }

  private onStep(step: PowerStep): void {
    const list = (this.state.steps[step.rack] ??= []);
    list.push(step);
    if (step.dp <= 0) return;
    // claimed by an open job chain, or held until no job stamped shortly after it can still claim it
    for (const w of this.state.chains) {
      if (w.jobId === undefined || step.t > w.powerUntil) continue;
      if (claimStep(this, w, step)) break;
    }
    for (const rule of this.powerRules) {
      const watched = this.topology().asset(step.asset);
      if (!watched || !rule.watch.classes.includes(watched.class) || step.dp < rule.watch.minStep) continue;
      if (step.claimedBy && rule.explainedBy.includes(step.claimedBy)) continue;
      const leadMs = Math.max(0, ...this.jobRules.flatMap((r) => r.power.map((p) => p.leadMs)));
      this.state.pending.push({ step, rule: rule.name, decideAt: step.t + leadMs });
    }
  }

  private interestOf(asset: string, metric: string, pathClass: string): Interest | null {
    let byAsset = this.interest.get(metric);
    if (!byAsset) this.interest.set(metric, (byAsset = new Map()));
    const known = byAsset.get(asset);
    if (known !== undefined) return known;
    const it = this.classify(asset, metric, pathClass);
    byAsset.set(asset, it);
    return it;
  }

  private classify(asset: string, metric: string, pathClass: string): Interest | null {
    const topo = this.topology();
    const a = topo.asset(asset);
    const cls = a?.class ?? pathClass;
    const rack = a ? (topo.registry.rackOf(asset) ?? a.rack) : '_';
    let stepW = Number.POSITIVE_INFINITY;
    let thermal = false;
    let keepMs = 5000;
    const load = (classes: readonly string[], m: string, minStep: number) => {
      if (m === metric && classes.includes(cls)) stepW = Math.min(stepW, minStep);
    };
    const minStep = Math.min(
      ...this.jobRules.flatMap((r) => r.power.map((p) => p.minStep)),
      ...this.powerRules.map((r) => r.watch.minStep),
    );
    // a loop's flow is kept as long as the fits look back through its lag
    let flow = false;
    const target = (th: ThermalTarget) => {
      load(th.loadClasses, 'power.active', minStep);
      if (!th.classes.includes(cls)) return;
      const span = th.preMs + th.maxDelayMs + th.settleMs + 10_000;
      if (th.metric === metric) {
        thermal = true;
        keepMs = Math.max(keepMs, span);
      }
      if (th.flowMetric === metric) {
        flow = true;
        keepMs = Math.max(keepMs, span + 3 * th.timeConstantMs);
      }
    };
    for (const r of this.jobRules) {
      for (const p of r.power) load(p.classes, p.metric, p.minStep);
      r.thermal.forEach(target);
    }
    for (const r of this.powerRules) {
      load(r.watch.classes, r.watch.metric, r.watch.minStep);
      r.thermal.forEach(target);
    }
    for (const r of this.thermalRules)
      for (const w of r.watch) {
        load(w.loadClasses, 'power.active', minStep);
        if (w.metric === metric && w.classes.includes(cls)) {
          thermal = true;
          keepMs = Math.max(keepMs, w.preMs + w.sustainMs + 10_000);
        }
      }
    const meter =
      this.gridRules.some((g) => g.metric === metric) &&
      this.gridRules.some((g) => topo.facilityMeters(g.meterClasses).some((m) => m.id === asset));
    if (stepW === Number.POSITIVE_INFINITY && !thermal && !meter && !flow) return null;
    const key = `${asset}|${metric}`;
    const series = (this.state.series[key] ??= { asset, metric, t: [], v: [] });
    return { series, key, rack, stepW: Number.isFinite(stepW) ? stepW : 0, thermal, meter, keepMs };
  }

  private prune(watermarkMs: number): void {
    if (watermarkMs - this.prunedAt < 1000) return; // once a second of event time is plenty
    this.prunedAt = watermarkMs;
    const limit = watermarkMs - STEP_KEEP_MS;
    for (const [rack, list] of Object.entries(this.state.steps)) {
      let drop = 0;
      while (drop < list.length && (list[drop] as PowerStep).t < limit) drop++;
      if (drop === list.length) delete this.state.steps[rack];
      else if (drop > 0) list.splice(0, drop);
    }
    for (const [key, until] of Object.entries(this.state.cooldowns))
      if (until < watermarkMs) delete this.state.cooldowns[key];
  }

  private flushOut(): busway.v1.IIncident[] {
    if (this.out.length === 0) return [];
    const out = this.out;
    this.out = [];
    return out;
  }
}
