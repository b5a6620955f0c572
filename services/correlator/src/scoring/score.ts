// Scores a harness run against the simulator's ground truth and the faults the harness injected.
import { type busway, msFromTimeNs } from '@busway/proto';
import type { TruthEntry } from '@busway/simulator';
import type { HarnessRun } from './harness.js';

export interface Spread {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export interface Score {
  precision: number;
  recall: number;
  incidents: number;
  truths: number;
  byKind: Record<string, { incidents: number; correct: number; expected: number; found: number }>;
  /** |measured - true| lag of the power step after the job event (dispatch delay). */
  powerLagErrorMs: Spread;
  /** |measured - true| lag of the coolant answer after the power step (transport delay). */
  coolantLagErrorMs: Spread;
  /** |measured - true| lag of the rack inlet air after the power step (0: it follows at once). */
  airLagErrorMs: Spread;
  /** How honest each link's stated standard error (`lag_sd_ms`) is, per kind of link. */
  lagCalibration: { power: Calibration; coolant: Calibration; air: Calibration };
  wrong: string[];
  missed: string[];
}

/**
 * Lag errors against their stated standard errors: the shares within one and within two of them (about 68 % and
 * 95 % when the errors are Gaussian and the standard errors right), and the median standard error stated.
 */
export interface Calibration {
  n: number;
  within1: number;
  within2: number;
  sdP50: number;
}

/** One scored lag: its error against the truth and the standard error the incident stated. */
interface LagError {
  errorMs: number;
  sdMs: number;
}

function calibration(lags: readonly LagError[]): Calibration {
  const share = (k: number) => lags.filter((l) => l.errorMs <= k * l.sdMs).length / Math.max(1, lags.length);
  return { n: lags.length, within1: share(1), within2: share(2), sdP50: spread(lags.map((l) => l.sdMs)).p50 };
}

export interface ScoreOptions {
  /** Truth and incidents in the first part of the run are left out (no history yet). */
  warmupMs: number;
  /** ... and in the last part (windows not closed by the data). */
  tailMs: number;
  /** How far an unexplained step may be from the true one. */
  stepToleranceMs: number;
  /** How far an unexplained thermal rise may be from the injected fault. */
  faultToleranceMs: number;
  minStepW: number;
}

export const DEFAULT_SCORING: ScoreOptions = {
  warmupMs: 60_000,
  tailMs: 90_000,
  stepToleranceMs: 300,
  faultToleranceMs: 5000,
  minStepW: 1000,
};

type JobStart = Extract<TruthEntry, { kind: 'job-start' }>;
type HeatArrival = Extract<TruthEntry, { kind: 'heat-arrival' }>;
type Fault = Extract<TruthEntry, { kind: 'fault-start' | 'fault-end' }>;

/** Simulator faults that heat what they touch within seconds, with no load behind it. */
const RISING_FAULTS: readonly string[] = ['fan-failure', 'flow-blockage'];

export function spread(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s.at(-1) ?? Number.NaN };
}

/**
 * Precision: incidents that match something that really happened, over all incidents. Recall: what really
 * happened and was reported, over all of it. A job counts as found only with a power link on every rack it
 * stepped and the coolant link of its CDU; a lost job event as an unexplained step on each of its PDUs; a fan
 * failure or flow blockage (simulator) or an injected cooling fault (harness) as an unexplained rise on its
 * asset near its start. Lags are scored on found jobs.
 */
export function scoreRun(run: HarnessRun, o: ScoreOptions = DEFAULT_SCORING): Score {
  const from = run.startMs + o.warmupMs;
  const to = run.endMs - o.tailMs;
  const inWindow = (t: number) => t >= from && t <= to;
  const pdusOf = (rack: string) =>
    run.registry.model.assets.filter((a) => a.class === 'pdu' && a.rack === rack).map((a) => a.id);
  const jobs = run.truth.filter((e): e is JobStart => e.kind === 'job-start' && inWindow(e.timeMs));
  const byId = new Map(run.incidents.map((i) => [i.id ?? '', i]));
  // the delay a job's heat really took through each loop (longer while its flow was low)
  const transport = new Map(
    run.truth
      .filter((e): e is HeatArrival => e.kind === 'heat-arrival')
      .map((e) => [`${e.jobId}|${e.cooler}`, e.transportDelayMs]),
  );
  const byKind: Score['byKind'] = {};
  const kind = (k: string) => (byKind[k] ??= { incidents: 0, correct: 0, expected: 0, found: 0 });
  const wrong: string[] = [];
  const missed: string[] = [];
  const powerErr: LagError[] = [];
  const coolantErr: LagError[] = [];
  const airErr: LagError[] = [];
  const lag = (l: busway.v1.IIncidentLink | undefined, trueMs: number): LagError => ({
    errorMs: Math.abs((l?.lagMs ?? 0) - trueMs),
    sdMs: l?.lagSdMs ?? 0,
  });
  const correctIds = new Set<string>();

  for (const job of jobs) {
    const racks = job.racks.filter((r) => (job.powerStepW[r] ?? 0) >= o.minStepW);
    if (racks.length === 0) continue;
    if (run.droppedJobs.has(job.jobId)) {
      const stepT = job.timeMs + job.dispatchDelayMs;
      for (const pdu of racks.flatMap(pdusOf)) {
        kind('unexplained-power-transient').expected++;
        const hit = run.incidents.find(
          (i) =>
            i.kind === 'unexplained-power-transient' &&
            i.chain?.[0]?.path?.asset === pdu &&
            Math.abs(msFromTimeNs(i.startNs) - stepT) <= o.stepToleranceMs,
        );
        if (hit) {
          kind('unexplained-power-transient').found++;
          correctIds.add(hit.id ?? '');
        } else missed.push(`unexplained step of lost job ${job.jobId} on ${pdu}`);
      }
      continue;
    }
    kind('job-power-thermal').expected++;
    const inc = byId.get(`job-power-thermal:${job.jobId}`);
    const links = inc?.chain ?? [];
    const power = racks
      .flatMap(pdusOf)
      .map((pdu) => links.find((l) => l.role === 'power-response' && l.path?.asset === pdu));
    const coolant = job.coolers.map((c) =>
      links.find((l) => l.role === 'thermal-response' && l.path?.asset === c),
    );
    if (!inc || power.some((l) => !l) || coolant.some((l) => !l)) {
      missed.push(`job ${job.jobId} (${racks.join(', ')}): ${inc ? 'incomplete chain' : 'no incident'}`);
      continue;
    }
    kind('job-power-thermal').found++;
    correctIds.add(inc.id ?? '');
    for (const l of power) powerErr.push(lag(l, job.dispatchDelayMs));
    job.coolers.forEach((c, i) =>
      coolantErr.push(lag(coolant[i], transport.get(`${job.jobId}|${c}`) ?? job.transportDelayMs)),
    );
    for (const l of links.filter((x) => x.role === 'air-response')) airErr.push(lag(l, 0));
  }

  // heat no load explains: the simulator's fan failures and flow blockages, and the harness's own faults
  const rises = [
    ...run.truth
      .filter((e): e is Fault => e.kind === 'fault-start' && RISING_FAULTS.includes(e.fault))
      .map((e) => ({ asset: e.asset ?? '', timeMs: e.timeMs, what: e.fault })),
    ...run.faults.map((f) => ({ asset: f.asset, timeMs: f.timeMs, what: f.kind })),
  ];
  const riseAt = (asset: string, t: number) => (i: busway.v1.IIncident) =>
    i.kind === 'unexplained-thermal-rise' &&
    i.path?.asset === asset &&
    Math.abs(msFromTimeNs(i.startNs) - t) <= o.faultToleranceMs;
  for (const f of rises) {
    if (!inWindow(f.timeMs)) continue;
    kind('unexplained-thermal-rise').expected++;
    const hit = run.incidents.find(riseAt(f.asset, f.timeMs));
    if (hit) {
      kind('unexplained-thermal-rise').found++;
      correctIds.add(hit.id ?? '');
    } else missed.push(`${f.what} on ${f.asset} at +${Math.round((f.timeMs - run.startMs) / 1000)} s`);
  }
  // a sensor fault's edge (a drift recalibrated, a frozen value released) is a rise no load explains either:
  // not required, but not wrong
  for (const e of run.truth)
    if ((e.kind === 'fault-start' || e.kind === 'fault-end') && e.asset)
      for (const i of run.incidents.filter(riseAt(e.asset, e.timeMs))) correctIds.add(i.id ?? '');

  let incidents = 0;
  for (const i of run.incidents) {
    if (!inWindow(msFromTimeNs(i.startNs))) continue;
    incidents++;
    const k = kind(i.kind ?? '');
    k.incidents++;
    if (correctIds.has(i.id ?? '')) k.correct++;
    else wrong.push(describe(i, run.startMs));
  }
  const expected = Object.values(byKind).reduce((s, k) => s + k.expected, 0);
  const found = Object.values(byKind).reduce((s, k) => s + k.found, 0);
  const correct = Object.values(byKind).reduce((s, k) => s + k.correct, 0);
  return {
    precision: incidents ? correct / incidents : 1,
    recall: expected ? found / expected : 1,
    incidents,
    truths: expected,
    byKind,
    powerLagErrorMs: spread(powerErr.map((l) => l.errorMs)),
    coolantLagErrorMs: spread(coolantErr.map((l) => l.errorMs)),
    airLagErrorMs: spread(airErr.map((l) => l.errorMs)),
    lagCalibration: {
      power: calibration(powerErr),
      coolant: calibration(coolantErr),
      air: calibration(airErr),
    },
    wrong,
    missed,
  };
}

function describe(i: busway.v1.IIncident, startMs: number): string {
  return `${i.id} at +${Math.round((msFromTimeNs(i.startNs) - startMs) / 100) / 10} s: ${i.summary}`;
}
