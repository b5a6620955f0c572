// The measured runs of the end-to-end benchmark: a backlog drained by either system, a paced rate with
// per-sample latency and a keep-up verdict, and a stage drained by one or two replicas.
import { join } from 'node:path';
import { Supervisor } from '@busway/cli';
import { Hdr } from '@busway/runtime';
import { lagGrowth, latencySummary, windowRate, type CountAt, type LatencySummary } from './measure.js';
import {
  CounterLog,
  hopCounters,
  HOPS,
  passSubject,
  pipelineCounters,
  STAGES,
  type PipelineRig,
} from './pipeline-rig.js';
import { LatencyObserver, LoadPublisher, unsSubjectsOf, wallMs, type LoadPayloads } from './pipeline-load.js';

export type System = 'pipeline' | 'ceiling';
const rawSubject = (chunk: number) => `raw.v1.samples.sparkplug.bench-c${chunk}`;
const inputOf = (system: System) =>
  system === 'pipeline' ? rawSubject : (k: number) => passSubject('raw', k);
/** The counter of samples that reached the last hop (UNS) in each system. */
const OUTPUT: Record<System, string> = { pipeline: 'out:fanout', ceiling: 'in:pass-fanout' };
let runs = 0;

/** Polls `check` until true; unlike testkit's waitFor, an error thrown by `check` ends the wait at once. */
async function until(
  what: string,
  timeoutMs: number,
  check: () => boolean | Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The benchmark's input was refused: its figures would be meaningless. */
class DeadLetters extends Error {
  constructor(system: System, logDir: string, last?: string) {
    super(
      `the ${system} dead-lettered benchmark input (${last ?? 'reason unknown'}); worker logs in ${logDir}`,
    );
  }
}

/** The newest dead letter's stage, code and reason, for the error that stops the run. */
async function lastDeadLetter(rig: PipelineRig): Promise<string | undefined> {
  try {
    const m = await rig.jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.v1.>' });
    const h = (k: string) => m?.header.get(k) ?? '?';
    return `${h(Hdr.DlqStage)}: ${h(Hdr.DlqCode)}: ${h(Hdr.DlqReason)}`;
  } catch {
    return undefined;
  }
}

export interface StageRate {
  name: string;
  /** Samples/s between 10 % and `hi` of the stage's total. */
  rate?: number;
  /** Samples per CPU-second of the stage's process over the same window. */
  perCpuSecond?: number;
}

export interface DrainResult {
  samples: number;
  /** Samples/s reaching UNS, steady window. */
  e2e?: number;
  stages: StageRate[];
  seconds: number;
  /** Samples that never reached UNS by design (late to the correlator, stale at fan-out). */
  lost: number;
}

/** Samples per CPU-second between the readings where `count` first reaches lo and hi of `total`. */
function perCpuSecond(count: CountAt[], cpu: CountAt[], total: number, lo: number, hi: number) {
  const i0 = count.findIndex((r) => r.count >= lo * total);
  const i1 = count.findIndex((r) => r.count >= hi * total);
  if (i0 < 0 || i1 <= i0) return undefined;
  const dCpu = (cpu[i1]?.count ?? 0) - (cpu[i0]?.count ?? 0);
  return dCpu > 0 ? ((count[i1]?.count ?? 0) - (count[i0]?.count ?? 0)) / dCpu : undefined;
}

/**
 * A backlog of `cycles` cycles of the first `chunks` chunks, stored before the system's consumers start,
 * then drained. Cycle c is stamped `c·periodMs` after a start a minute in the past, so the correlator's
 * watermarks advance through the backlog as they would have live. `hi`: the end of the steady window (the
 * pipeline's last bound + period of event time waits for the correlator's idle timeout by design).
 */
export async function drain(
  rig: PipelineRig,
  system: System,
  payloads: LoadPayloads,
  o: { chunks: number; cycles: number; periodMs: number; hi: number },
): Promise<DrainResult> {
  const total = o.chunks * o.cycles * payloads.samplesPerMessage;
  const publisher = new LoadPublisher(rig.js, payloads, inputOf(system), `${system}-drain-${runs++}`);
  const base = wallMs() - o.cycles * o.periodMs - 60_000;
  await publisher.preload(o.cycles, o.chunks, (c) => base + c * o.periodMs);
  const log =
    system === 'pipeline'
      ? new CounterLog(async () => pipelineCounters(await rig.sup.scrape()), 250)
      : new CounterLog(async () => hopCounters(await rig.scrapeHops()), 100);
  const started = performance.now();
  if (system === 'pipeline') {
    for (const s of STAGES) await rig.sup.start(s.worker);
    await rig.sup.waitReady();
  } else for (const h of HOPS) await rig.startHop(h.name, payloads.samplesPerMessage);
  const branch = system === 'pipeline' ? 'in:anomaly' : 'in:pass-anomaly';
  await until(`${system} drained`, 900_000, () => {
    // a dead letter means the load is wrong, not slow: stop at once (the worker logs say why)
    if (log.latest('dlq') > 0) throw new DeadLetters(system, rig.logDir);
    return log.latest(OUTPUT[system]) + log.latest('lost') >= total && log.latest(branch) >= total;
  }).catch(async (err: unknown) => {
    await log.stop();
    throw err instanceof DeadLetters ? new DeadLetters(system, rig.logDir, await lastDeadLetter(rig)) : err;
  });
  const seconds = (performance.now() - started) / 1000;
  await log.stop();
  const names =
    system === 'pipeline'
      ? STAGES.map((s) => ({ name: s.stage, key: `in:${s.stage}`, cpu: `cpu:${s.stage}` }))
      : HOPS.map((h) => ({ name: h.name, key: `in:${h.name}`, cpu: `cpu:${h.name}` }));
  const stages = names.map(({ name, key, cpu }) => {
    // the normalizer and the hops hold nothing back: their window runs to 90 %
    const hi = system === 'ceiling' || name === 'normalize' ? 0.9 : o.hi;
    const count = log.relative(key);
    return {
      name,
      rate: windowRate(count, total, 0.1, hi),
      perCpuSecond: perCpuSecond(count, log.relative(cpu), total, 0.1, hi),
    };
  });
  const e2e = windowRate(log.relative(OUTPUT[system]), total, 0.1, system === 'pipeline' ? o.hi : 0.9);
  return { samples: total, e2e, stages, seconds, lost: log.latest('lost') };
}

export interface PacedResult {
  rate: number;
  /** How often each point reported. */
  periodMs: number;
  /** Growth of (samples sent − samples at UNS) after the warm-up, samples/s: ~0 when the system keeps up. */
  deficitGrowthPerS: number;
  /** Everything sent reached UNS within the drain allowance after the load stopped. */
  drained: boolean;
  keptUp: boolean;
  latency: LatencySummary;
  /** Every latency recorded, ms (rounds are merged from these). */
  latencies: number[];
  /** Samples of the observed racks sent inside the measuring window, to compare with latency.count. */
  expected: number;
  /** Samples that never reached UNS by design (late to the correlator, stale at fan-out). */
  lost: number;
  /** The correlator's watermark lag (its /metrics) read every 250 ms while measuring: its share of the latency. */
  watermarkLagsMs: number[];
}

/**
 * `rate` samples/s for `runMs` from the first `chunks` chunks, with a LatencyObserver on every
 * `observeEvery`-th chunk's output. Kept up: after `warmupMs` the deficit (sent − arrived at UNS) grew by
 * less than 5 % of the rate (lagGrowth: a pause that recovers does not count), and everything arrived
 * within `warmupMs` + 5 s of the end.
 */
export async function paced(
  rig: PipelineRig,
  system: System,
  payloads: LoadPayloads,
  o: { rate: number; chunks: number; runMs: number; warmupMs: number; observeEvery: number },
): Promise<PacedResult> {
  const publisher = new LoadPublisher(rig.js, payloads, inputOf(system), `${system}-paced-${runs++}`);
  const watched = Array.from({ length: o.chunks }, (_, k) => k).filter((k) => k % o.observeEvery === 0);
  const observer = new LatencyObserver(
    rig.nc,
    system === 'pipeline' ? unsSubjectsOf(payloads, watched) : watched.map((k) => passSubject('uns', k)),
  );
  await rig.nc.flush();
  const start = wallMs();
  observer.fromMs = start + o.warmupMs;
  observer.untilMs = start + o.runMs;
  publisher.watch = {
    chunks: new Set(watched),
    fromMs: observer.fromMs,
    untilMs: observer.untilMs,
    samples: 0,
  };
  const read = async () =>
    system === 'pipeline' ? pipelineCounters(await rig.sup.scrape()) : hopCounters(await rig.scrapeHops());
  const base = await read();
  const done = (c: Record<string, number>) =>
    (c[OUTPUT[system]] ?? 0) - (base[OUTPUT[system]] ?? 0) + (c.lost ?? 0) - (base.lost ?? 0);
  const log = new CounterLog(async () => {
    const c = await read();
    return {
      deficit: publisher.sentSamples - done(c),
      lost: (c.lost ?? 0) - (base.lost ?? 0),
      watermarkLagMs: (c.watermarkLagS ?? 0) * 1000,
    };
  }, 250);
  await publisher.paced(o.rate, o.chunks, o.runMs);
  const sentMs = performance.now();
  const measured = (r: CountAt) => r.tMs >= sentMs - o.runMs + o.warmupMs && r.tMs <= sentMs;
  const growth = lagGrowth(
    log
      .relative('deficit')
      .filter(measured)
      .map((r) => ({ x: r.tMs / 1000, y: r.count })),
  );
  const watermarkLagsMs = (log.series.get('watermarkLagMs') ?? []).filter(measured).map((r) => r.count);
  const drained = await until(
    `${system} caught up`,
    o.warmupMs + 5000,
    () => log.latest('deficit') <= 0,
  ).then(
    () => true,
    () => false,
  );
  await log.stop();
  // a system left behind drains its backlog before the next run starts
  if (!drained)
    await until(`${system} drained`, 600_000, async () => done(await read()) >= publisher.sentSamples);
  await new Promise((r) => setTimeout(r, 200));
  return {
    rate: o.rate,
    periodMs: (o.chunks * payloads.samplesPerMessage * 1000) / o.rate,
    deficitGrowthPerS: growth,
    drained,
    keptUp: drained && growth < 0.05 * o.rate,
    ...withLatencies(observer.close()),
    expected: publisher.watch.samples,
    lost: log.latest('lost'),
    watermarkLagsMs,
  };
}

const withLatencies = (latencies: number[]) => ({ latencies, latency: latencySummary(latencies) });

/** Rounds of the same paced load as one result: latencies pooled, kept up only if every round did. */
export function mergeRounds(rounds: PacedResult[]): PacedResult {
  const first = rounds[0];
  if (!first) throw new Error('no rounds to merge');
  return {
    ...first,
    deficitGrowthPerS: Math.max(...rounds.map((r) => r.deficitGrowthPerS)),
    drained: rounds.every((r) => r.drained),
    keptUp: rounds.every((r) => r.keptUp),
    ...withLatencies(rounds.flatMap((r) => r.latencies)),
    expected: rounds.reduce((n, r) => n + r.expected, 0),
    lost: rounds.reduce((n, r) => n + r.lost, 0),
    watermarkLagsMs: rounds.flatMap((r) => r.watermarkLagsMs),
  };
}

/**
 * Samples/s of the normalizer (or of its pass-through hop) draining a backlog with `replicas` processes
 * sharing its durable consumer; every other stage is stopped. The replicas start one after the other (two
 * health ports picked at once can collide) and are frozen (SIGSTOP) while the backlog is stored, then thawed
 * together, so neither start-up nor the publisher shares the measured window.
 */
export async function replicaDrain(
  rig: PipelineRig,
  system: System,
  payloads: LoadPayloads,
  o: { chunks: number; cycles: number; replicas: number },
): Promise<number | undefined> {
  const total = o.chunks * o.cycles * payloads.samplesPerMessage;
  const sups = [
    rig.sup,
    ...Array.from(
      { length: o.replicas - 1 },
      (_, i) =>
        new Supervisor(rig.env, join(rig.logDir, `replica-${i + 2}`), (line) => rig.events.push(line)),
    ),
  ];
  const signal = (sig: NodeJS.Signals) => {
    if (system === 'pipeline') for (const sup of sups) sup.signal('normalizer', sig);
    else rig.signalHops(sig);
  };
  const key = system === 'pipeline' ? 'in:normalize' : 'in:pass-normalize';
  const read = async () =>
    system === 'pipeline'
      ? pipelineCounters((await Promise.all(sups.map((s) => s.scrape()))).flat())
      : hopCounters(await rig.scrapeHops());
  let log: CounterLog | undefined;
  try {
    for (let i = 0; i < o.replicas; i++)
      if (system === 'pipeline') {
        await sups[i]?.start('normalizer');
        await sups[i]?.waitReady();
      } else await rig.startHop('pass-normalize', payloads.samplesPerMessage, i + 1);
    const before = await read();
    signal('SIGSTOP');
    const publisher = new LoadPublisher(rig.js, payloads, inputOf(system), `${system}-replicas-${runs++}`);
    await publisher.preload(o.cycles, o.chunks, () => wallMs());
    signal('SIGCONT');
    log = new CounterLog(async () => {
      const c = await read();
      return { [key]: (c[key] ?? 0) - (before[key] ?? 0), dlq: c.dlq ?? 0 };
    }, 100);
    const counters = log;
    await until('replicas drained', 900_000, () => {
      if (counters.latest('dlq') > 0) throw new DeadLetters(system, rig.logDir);
      return counters.latest(key) >= total;
    });
  } catch (err) {
    throw err instanceof DeadLetters ? new DeadLetters(system, rig.logDir, await lastDeadLetter(rig)) : err;
  } finally {
    signal('SIGCONT');
    await log?.stop();
    if (system === 'pipeline') for (const sup of sups) await sup.stopAll(['normalizer']);
    else await rig.stopHops();
  }
  return windowRate(log.series.get(key) ?? [], total, 0.1, 0.9);
}
