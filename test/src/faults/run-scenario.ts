// Runs faults on a fresh stack: warm up, inject, watch the recovery, drain, account for every sample.
import { join } from 'node:path';
import { waitFor } from '@busway/testkit';
import { readLedger, type HopCount } from './ledger.js';
import { Monitor, recoveryOf, type Recovery, type WatchedStream } from './monitor.js';
import { SparkplugObserver } from './observer.js';
import { commonChecks } from './checks.js';
import type { Check, FaultOutcome, Scenario } from './scenario.js';
import { sleep } from './scenario.js';
import { FaultStack, STACK_WORKERS } from './stack.js';

export interface RunOptions {
  /** Where the workers' logs go (one folder per scenario). */
  outDir: string;
  seed: number;
  /** Plant size and rates of the simulator. */
  simulatorEnv: Record<string, string>;
  /** Steady flow before the fault: the baseline of the lag. @default 8000 */
  warmupMs?: number;
  /** Watch at least this long after the fault was taken back. @default 10000 */
  observeMs?: number;
  /** Give up waiting for the output to recover after this long. @default 120000 */
  recoveryTimeoutMs?: number;
  /** A worker whose RSS goes past this fails the memory check. @default 512 */
  rssLimitMb?: number;
  log?: (line: string) => void;
}

/** One fault injected during a run, and how the watched output came back. */
export interface FaultResult {
  name: string;
  watched: WatchedStream;
  notes: string[];
  recovery?: Recovery;
  /** The watched stream's lag over time: [ms since the fault, lag ms or null when unreadable], one per second. */
  lagTimeline: [number, number | null][];
}

export interface ScenarioResult {
  name: string;
  title: string;
  ok: boolean;
  durationMs: number;
  faults: FaultResult[];
  hops: HopCount[];
  late: number;
  lateExamples: string[];
  scores: number;
  duplicateScores: number;
  deadLetters: Record<string, number>;
  /** Counters the workers reported at the end (stale drops, late, duplicates removed), by worker. */
  counters: Record<string, number>;
  peakRssMb: Record<string, number>;
  rssAtFaultMb: Record<string, number>;
  checks: Check[];
  error?: string;
  logDir: string;
}

const MB = 1024 * 1024;
const toMb = (m: Map<string, number>) =>
  Object.fromEntries([...m].map(([k, v]) => [k, Math.round((v / MB) * 10) / 10]));
/** Streams the samples and their scores pass through: the drain waits for every durable consumer on them. */
const CONSUMED = ['AUDIT', 'RAW', 'NORM', 'ORDERED', 'ANOMALIES'];
/** Read by consumers off the sample path: reported when they hold something at the end, never waited for. */
const SIDE = ['INCIDENTS', 'ALARMS'];

/** Durable consumers of the side streams that still hold or await messages once the samples have drained. */
async function sideBacklog(stack: FaultStack): Promise<string[]> {
  const busy: string[] = [];
  for (const s of SIDE)
    for await (const c of stack.jsm.consumers.list(s))
      if (c.config.durable_name && (c.num_pending > 0 || c.num_ack_pending > 0))
        busy.push(
          `${s}/${c.name}: ${c.num_pending} pending, ${c.num_ack_pending} unacknowledged, ${c.num_redelivered} redelivered`,
        );
  return busy;
}
const OUTPUTS = ['RAW', 'NORM', 'ORDERED', 'UNS', 'ANOMALIES'];

/** Every durable consumer has nothing pending or unacknowledged, and no output stream grew for `stableMs`. */
async function drain(
  stack: FaultStack,
  timeoutMs: number,
  log: (line: string) => void,
  stableMs = 6000,
): Promise<void> {
  let last = '';
  let stableSince = Date.now();
  let busy: string[] = [];
  let told = Date.now();
  try {
    await waitFor(
      'the pipeline to drain',
      async () => {
        const seqs = [];
        for (const s of OUTPUTS) seqs.push((await stack.jsm.streams.info(s)).state.last_seq);
        if (seqs.join() !== last) [last, stableSince] = [seqs.join(), Date.now()];
        busy = [];
        for (const s of CONSUMED)
          for await (const c of stack.jsm.consumers.list(s))
            if (c.config.durable_name && (c.num_pending > 0 || c.num_ack_pending > 0))
              busy.push(`${s}/${c.name}: ${c.num_pending} pending, ${c.num_ack_pending} unacknowledged`);
        if (Date.now() - told > 15_000 && busy.length > 0) {
          told = Date.now();
          log(`draining: ${busy.join('; ')}`);
        }
        return busy.length === 0 && Date.now() - stableSince >= stableMs;
      },
      timeoutMs,
      500,
    );
  } catch (err) {
    const growing =
      Date.now() - stableSince < stableMs ? `; ${OUTPUTS.join('/')} still growing: ${last}` : '';
    throw new Error(`${(err as Error).message}; busy: ${busy.join('; ') || 'none'}${growing}`, {
      cause: err,
    });
  }
}

/** Waits until the watched output has stayed fresh for a while after the fault was taken back. */
async function awaitRecovery(
  monitor: Monitor,
  stream: WatchedStream,
  fault: FaultOutcome,
  observeMs: number,
  timeoutMs: number,
): Promise<void> {
  const repairedAt = fault.repairedAt ?? fault.faultAt;
  const deadline = repairedAt + timeoutMs;
  while (Date.now() < deadline) {
    await sleep(500);
    if (Date.now() - repairedAt < observeMs) continue;
    const probes = monitor.probes.get(stream) ?? [];
    const r = recoveryOf(probes, fault.faultAt);
    const lastT = probes.at(-1)?.t ?? 0;
    if (r.recoveryMs !== undefined && lastT - (fault.faultAt + r.recoveryMs) >= 3000) return;
  }
}

/** Counters that explain a loss or a delay, summed per worker and label. */
const EXPLAINING = [
  ['busway_samples_total', 'direction'],
  ['busway_late_samples_total', 'outcome'],
  ['busway_duplicate_samples_total', ''],
  ['busway_dead_letters_total', 'reason'],
] as const;

async function countersOf(stack: FaultStack): Promise<Record<string, number>> {
  const samples = await Promise.race([stack.sup.scrape(), sleep(5000).then(() => [])]);
  const out: Record<string, number> = {};
  for (const s of samples)
    for (const [name, label] of EXPLAINING)
      if (s.name === name) {
        const key = `${s.labels.worker}:${name.replace(/^busway_/, '')}${label ? `{${s.labels[label]}}` : ''}`;
        out[key] = (out[key] ?? 0) + s.value;
      }
  return out;
}

export function runScenario(sc: Scenario, opts: RunOptions): Promise<ScenarioResult> {
  return runFaults(sc.name, sc.title, [sc], opts);
}

/**
 * One fresh stack, the simulator warmed up, then each scenario's fault in turn (each watched until its output
 * recovers), then the simulator stopped, the pipeline drained and every sample accounted for.
 */
export async function runFaults(
  name: string,
  title: string,
  scenarios: readonly Scenario[],
  opts: RunOptions,
): Promise<ScenarioResult> {
  const log = (line: string) => opts.log?.(`[${name}] ${line}`);
  const logDir = join(opts.outDir, 'logs', name);
  const started = Date.now();
  const result: ScenarioResult = {
    name,
    title,
    ok: false,
    durationMs: 0,
    faults: [],
    hops: [],
    late: 0,
    lateExamples: [],
    scores: 0,
    duplicateScores: 0,
    deadLetters: {},
    counters: {},
    peakRssMb: {},
    rssAtFaultMb: {},
    checks: [],
    logDir,
  };
  const watched = [...new Set<WatchedStream>(['UNS', ...scenarios.map((s) => s.watch)])];
  let stack: FaultStack | undefined;
  let monitor: Monitor | undefined;
  try {
    stack = await FaultStack.start({
      logDir,
      seed: opts.seed,
      simulatorEnv: opts.simulatorEnv,
      extendModel: (m) => scenarios.reduce((acc, s) => s.extendModel?.(acc) ?? acc, m),
    });
    const running = stack;
    log('stack up: 3 NATS nodes (R3), Redis, Mosquitto, every pipeline worker');
    const observer = await SparkplugObserver.connect(stack.broker.url);
    monitor = new Monitor(stack, STACK_WORKERS, watched);
    const watching = monitor;
    await stack.startSimulator();
    await waitFor(
      'output on every watched stream',
      () => watched.every((w) => (watching.probes.get(w) ?? []).some((p) => p.lagMs !== undefined)),
      60_000,
      250,
    );
    await sleep(opts.warmupMs ?? 8000);
    monitor.markRss();
    const outcomes: { sc: Scenario; fault: FaultOutcome; endAt: number }[] = [];
    for (const sc of scenarios) {
      const fault = await sc.inject({ stack, monitor, log });
      await awaitRecovery(
        monitor,
        sc.watch,
        fault,
        opts.observeMs ?? 10_000,
        opts.recoveryTimeoutMs ?? 120_000,
      );
      outcomes.push({ sc, fault, endAt: Date.now() });
      log(`${sc.name}: watched ${sc.watch} for ${Date.now() - fault.faultAt} ms after the fault`);
    }
    const endAt = Date.now();
    await stack.stopSimulator();
    await sleep(1000); // the observer's last deliveries
    await drain(stack, 150_000, log);
    log(`simulator stopped; drained after ${Date.now() - endAt} ms`);
    result.counters = await countersOf(stack);
    const side = await sideBacklog(stack);
    await monitor.stop();
    await observer.close();
    for (const { sc, fault, endAt: until } of outcomes) {
      const probes = (monitor.probes.get(sc.watch) ?? []).filter((p) => p.t <= until);
      result.faults.push({
        name: sc.name,
        watched: sc.watch,
        notes: fault.notes,
        recovery: recoveryOf(probes, fault.faultAt),
        lagTimeline: probes
          .filter((p, i) => i % 2 === 0 && p.t >= fault.faultAt - 10_000)
          .map((p) => [p.t - fault.faultAt, p.lagMs ?? null]),
      });
    }
    result.peakRssMb = toMb(monitor.peakRss);
    result.rssAtFaultMb = toMb(monitor.rssAt);
    const ledger = await readLedger(running.nc, running.jsm, observer.ddata);
    result.hops = ledger.hops;
    result.late = ledger.late;
    result.lateExamples = ledger.lateExamples;
    result.scores = ledger.scores;
    result.duplicateScores = ledger.duplicateScores;
    log(`ledger read: ${ledger.hops.at(-1)?.expected ?? 0} samples accounted for`);
    for (const d of ledger.deadLetters)
      result.deadLetters[d.subject] = (result.deadLetters[d.subject] ?? 0) + 1;
    const expectedDeadLetters: Record<string, number> = {};
    for (const { fault } of outcomes)
      for (const [subject, n] of Object.entries(fault.expectedDeadLetters ?? {}))
        expectedDeadLetters[subject] = (expectedDeadLetters[subject] ?? 0) + n;
    result.checks = commonChecks(ledger, expectedDeadLetters, result, opts.rssLimitMb ?? 512);
    result.checks.push({
      name: 'every consumer of incidents and alarms has acknowledged what it was given',
      ok: side.length === 0,
      severity: 'warn',
      detail: side.join('; ') || 'all acknowledged',
    });
    for (const { fault } of outcomes) result.checks.push(...((await fault.checks?.(ledger)) ?? []));
    result.ok = result.checks.every((c) => c.ok || c.severity === 'warn');
  } catch (err) {
    result.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`error: ${result.error}`);
  } finally {
    await monitor?.stop().catch(() => undefined);
    await stack?.dispose().catch(() => undefined);
    result.durationMs = Date.now() - started;
  }
  return result;
}
