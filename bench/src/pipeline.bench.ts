// The whole pipeline end to end (RAW → normalizer → NORM → correlator → ORDERED → fan-out → UNS, anomaly
// reading ORDERED beside fan-out), each worker its own process, beside a ceiling measured in the same run on
// the same servers and payloads: a pass-through process per hop that republishes the bytes unread.
// Run alone: `node bench/dist/pipeline.bench.js [--quick]`.
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { WORKERS } from '@busway/cli';
import { loadConfig } from '@busway/runtime';
import { latencySummary, ratioOf } from './measure.js';
import type { BenchRow } from './normalizer.bench.js';
import { LoadPayloads } from './pipeline-load.js';
import { PipelineRig, STAGES } from './pipeline-rig.js';
import { drain, mergeRounds, paced, replicaDrain, type PacedResult } from './pipeline-runs.js';
import { buildSite } from './site.js';

export interface PipelineBenchOptions {
  /** Registered points: the registry every worker loads. */
  points: number;
  /** Samples per raw message (a gateway's batch). */
  samplesPerMessage: number;
  /** Each point's reporting period in the backlogs, and in the latency runs (roughly: the racks are chosen for it). */
  periodMs: number;
  /** Points in the backlogs, and how many cycles of them. */
  drainPoints: number;
  drainCycles: number;
  /** The ceiling's backlogs are this many times longer: it drains them much faster. */
  ceilingFactor: number;
  /** Paced runs searching the highest rate the pipeline keeps up with, and how long each lasts. */
  searchRuns: number;
  searchRunMs: number;
  /** Paced latency runs at half that rate: rounds of each system in turn, and how long each lasts. */
  latencyRounds: number;
  latencyRunMs: number;
  /** A small out-of-orderness bound, measured beside the configured one. */
  smallBoundMs: number;
  /** Samples in each 1 → 2 replicas backlog (twice as many for the pass-through, which drains faster). */
  replicaSamples: number;
  /** Latency is read off every n-th chunk's racks. */
  observeEvery: number;
}

export const PIPELINE_DEFAULTS: PipelineBenchOptions = {
  points: 20_000,
  samplesPerMessage: 200,
  periodMs: 200,
  drainPoints: 4000,
  drainCycles: 60,
  ceilingFactor: 5,
  searchRuns: 3,
  searchRunMs: 12_000,
  latencyRounds: 3,
  latencyRunMs: 8000,
  smallBoundMs: 100,
  replicaSamples: 800_000,
  observeEvery: 4,
};

export const PIPELINE_QUICK: PipelineBenchOptions = {
  ...PIPELINE_DEFAULTS,
  drainPoints: 2000,
  drainCycles: 30,
  searchRuns: 2,
  searchRunMs: 9000,
  latencyRounds: 2,
  latencyRunMs: 7000,
  replicaSamples: 400_000,
};

const siteModelOf = (site: ReturnType<typeof buildSite>) => ({
  ...site.model,
  // every sample reaches UNS (no report by exception), so counts at the end equal counts at the start
  points: site.model.points.map(({ deadband: _deadband, ...p }) => p),
});

/** The correlator's configured out-of-orderness bound (its default unless the environment sets one). */
async function correlatorBoundMs(env: NodeJS.ProcessEnv): Promise<number> {
  const mod = await WORKERS.find((w) => w.name === 'correlator')?.load();
  if (!mod) throw new Error('no correlator in the catalog');
  return (loadConfig(mod.configSchema, { env, worker: 'correlator' }) as { outOfOrdernessMs: number })
    .outOfOrdernessMs;
}

export async function benchPipeline(o: PipelineBenchOptions = PIPELINE_DEFAULTS): Promise<BenchRow[]> {
  const site = buildSite(o.points);
  const payloads = new LoadPayloads(site, o.samplesPerMessage);
  const rig = await PipelineRig.start(siteModelOf(site));
  try {
    const bound = await correlatorBoundMs(rig.env);
    const spm = o.samplesPerMessage;
    const chunksFor = (rate: number) =>
      Math.min(payloads.chunks, Math.max(1, Math.round((rate * o.periodMs) / 1000 / spm)));
    const rateOf = (chunks: number) => (chunks * spm * 1000) / o.periodMs;
    const drainChunks = Math.min(payloads.chunks, Math.round(o.drainPoints / spm));
    // the last bound + period of the backlog's event time waits for the correlator's idle timeout by design
    const tail = (bound + o.periodMs) / (o.drainCycles * o.periodMs);
    const hi = Math.max(0.5, 0.9 - tail);

    // 1. capacity: the same backlog drained by each system (the ceiling's is longer, same payloads)
    const ceilingDrain = await drain(rig, 'ceiling', payloads, {
      chunks: drainChunks,
      cycles: o.drainCycles * o.ceilingFactor,
      periodMs: o.periodMs,
      hi: 0.9,
    });
    const pipelineDrain = await drain(rig, 'pipeline', payloads, {
      chunks: drainChunks,
      cycles: o.drainCycles,
      periodMs: o.periodMs,
      hi,
    });

    // 2. the highest paced rate the pipeline keeps up with, starting under its drain rate. Every paced
    // run uses the same racks (the rate sets how often each point reports): a rack that stopped reporting
    // would hold the correlator's watermark until it counts as idle, which a steady plant never does.
    const pacedChunks = chunksFor(0.4 * (pipelineDrain.e2e ?? rateOf(1)));
    const periodAt = (rate: number) => (pacedChunks * spm * 1000) / rate;
    const tried: PacedResult[] = [];
    let rate = Math.round(0.7 * (pipelineDrain.e2e ?? rateOf(1)));
    for (let i = 0; i < o.searchRuns; i++) {
      const r = await paced(rig, 'pipeline', payloads, {
        rate,
        chunks: pacedChunks,
        runMs: o.searchRunMs,
        warmupMs: bound + periodAt(rate) + 1500,
        observeEvery: o.observeEvery,
      });
      tried.push(r);
      if (tried.some((t) => t.keptUp) && tried.some((t) => !t.keptUp)) break;
      rate = Math.round(rate * (r.keptUp ? 1.25 : 0.7));
    }
    const kept = tried.filter((t) => t.keptUp).map((t) => t.rate);
    const sustainable = kept.length > 0 ? Math.max(...kept) : undefined;

    // 3. latency at half that rate: ceiling, pipeline, pipeline with a small out-of-orderness bound
    const load = {
      rate: Math.round(0.5 * (sustainable ?? Math.min(...tried.map((t) => t.rate)))),
      chunks: pacedChunks,
      runMs: o.latencyRunMs,
      observeEvery: o.observeEvery,
    };
    const period = periodAt(load.rate);
    // rounds alternate between the systems, so both meet the same neighbours on this shared machine
    const alternate = async (pipelineWarmupMs: number) => {
      const c: PacedResult[] = [];
      const p: PacedResult[] = [];
      for (let i = 0; i < o.latencyRounds; i++) {
        c.push(await paced(rig, 'ceiling', payloads, { ...load, warmupMs: 1500 }));
        p.push(await paced(rig, 'pipeline', payloads, { ...load, warmupMs: pipelineWarmupMs }));
      }
      return { ceiling: mergeRounds(c), pipeline: mergeRounds(p) };
    };
    const atBound = await alternate(bound + period + 1500);
    const rss = rig.peakRssMb();
    await rig.sup.stop('correlator');
    await rig.sup.start('correlator', { BUSWAY_OUT_OF_ORDERNESS_MS: String(o.smallBoundMs) });
    await rig.sup.waitReady();
    const atSmallBound = await alternate(o.smallBoundMs + period + 1500);

    // 4. 1 → 2 replicas of the normalizer (every other stage stopped), and of its pass-through hop
    await rig.sup.stopAll(STAGES.map((s) => s.worker));
    await rig.stopHops();
    const rep = { chunks: drainChunks, cycles: Math.ceil(o.replicaSamples / (drainChunks * spm)) };
    const norm1 = await replicaDrain(rig, 'pipeline', payloads, { ...rep, replicas: 1 });
    const norm2 = await replicaDrain(rig, 'pipeline', payloads, { ...rep, replicas: 2 });
    const repCeiling = { ...rep, cycles: rep.cycles * 2 };
    const hop1 = await replicaDrain(rig, 'ceiling', payloads, { ...repCeiling, replicas: 1 });
    const hop2 = await replicaDrain(rig, 'ceiling', payloads, { ...repCeiling, replicas: 2 });

    return rowsOf({
      o,
      bound,
      spm,
      ceilingDrain,
      pipelineDrain,
      tried,
      sustainable,
      atBound,
      atSmallBound,
      rss,
      replicas: { norm1, norm2, hop1, hop2 },
      restarts: rig.events.length,
      stalls: rig.failedPulls(),
      natsVersion: rig.nc.info?.version ?? '?',
    });
  } finally {
    await rig.close();
  }
}

const pointsOf = (p: PacedResult | undefined) => (p ? Math.round((p.rate * p.periodMs) / 1000) : 0);

const HOP_OF: Record<string, string> = {
  normalize: 'pass-normalize',
  correlate: 'pass-correlate',
  anomaly: 'pass-anomaly',
  fanout: 'pass-fanout',
};

function rowsOf(r: {
  o: PipelineBenchOptions;
  bound: number;
  spm: number;
  ceilingDrain: Awaited<ReturnType<typeof drain>>;
  pipelineDrain: Awaited<ReturnType<typeof drain>>;
  tried: PacedResult[];
  sustainable?: number;
  atBound: { ceiling: PacedResult; pipeline: PacedResult };
  atSmallBound: { ceiling: PacedResult; pipeline: PacedResult };
  rss: Map<string, number>;
  replicas: { norm1?: number; norm2?: number; hop1?: number; hop2?: number };
  restarts: number;
  stalls: Map<string, number>;
  natsVersion: string;
}): BenchRow[] {
  const rows: BenchRow[] = [];
  const row = (
    name: string,
    value: number | undefined,
    unit: string,
    base?: { name: string; value?: number },
  ) => {
    if (value === undefined || !Number.isFinite(value)) return;
    const baseline = base?.value !== undefined ? { name: base.name, value: base.value } : undefined;
    rows.push({
      name,
      value,
      unit,
      ...(baseline ? { baseline, ratio: ratioOf(value, baseline.value) } : {}),
    });
  };
  const { o, ceilingDrain: cd, pipelineDrain: pd } = r;
  row(
    `end-to-end samples/s RAW → UNS, draining a backlog of ${pd.samples.toLocaleString('en-US')} samples (${o.drainPoints} points, batches of ${r.spm}${pd.lost > 0 ? `, ${pd.lost} late` : ''})`,
    pd.e2e,
    'samples/s',
    {
      name: `same-hop JetStream pass-through (${cd.samples.toLocaleString('en-US')} samples, same payloads)`,
      value: cd.e2e,
    },
  );
  for (const s of pd.stages) {
    const hop = cd.stages.find((h) => h.name === HOP_OF[s.name]);
    row(`${s.name} samples/s in the drain (its /metrics)`, s.rate, 'samples/s', {
      name: `${hop?.name} hop`,
      value: hop?.rate,
    });
    row(`${s.name} samples per CPU-second of its process`, s.perCpuSecond, 'samples/s', {
      name: `${hop?.name} process`,
      value: hop?.perCpuSecond,
    });
  }
  const tried = r.tried
    .map(
      (t) =>
        `${Math.round(t.rate)}${t.keptUp ? ' kept up' : ' fell behind'}${t.lost ? ` (${t.lost} late)` : ''}`,
    )
    .join(', ');
  if (r.sustainable !== undefined)
    row(
      `highest paced rate the pipeline kept up with (${pointsOf(r.tried[0])} points; tried ${tried})`,
      r.sustainable,
      'samples/s',
      { name: 'its own drain rate', value: pd.e2e },
    );
  else
    row(
      `NO paced rate tried kept up (${pointsOf(r.tried[0])} points; tried ${tried}): the lowest tried, latency measured at half of it`,
      Math.min(...r.tried.map((t) => t.rate)),
      'samples/s',
      { name: 'its own drain rate', value: pd.e2e },
    );
  const lat = (label: string, pair: { ceiling: PacedResult; pipeline: PacedResult }, bound: number) => {
    const p = pair.pipeline;
    const c = pair.ceiling;
    const lost = p.lost > 0 ? `, ${p.lost} late to the correlator (ordered.v1.late)` : '';
    const seen = `${p.latency.count} of ${p.expected} samples seen${lost}${p.keptUp ? '' : ', did NOT keep up'}`;
    const ctx = `${o.latencyRounds} rounds at ${Math.round(p.rate)} samples/s, ${pointsOf(p)} points each every ${Math.round(p.periodMs)} ms, out-of-orderness ${bound} ms; ${seen}`;
    const base = `pass-through (${c.latency.count} of ${c.expected} seen)`;
    row(`${label} latency p50 ingest → UNS subscriber (${ctx})`, p.latency.p50, 'ms', {
      name: `${base} p50`,
      value: c.latency.p50,
    });
    row(`${label} latency p99`, p.latency.p99, 'ms', { name: `${base} p99`, value: c.latency.p99 });
    row(
      `${label} latency p50 beyond the correlator's hold (bound + period, by design)`,
      p.latency.p50 - bound - p.periodMs,
      'ms',
    );
    // the correlator's share: what it still holds back (its /metrics), the rest is before and after it
    const wm = latencySummary(p.watermarkLagsMs);
    row(`${label} correlator watermark lag p50 while measuring (${wm.count} readings)`, wm.p50, 'ms', {
      name: 'latency p50 above',
      value: p.latency.p50,
    });
  };
  lat('pipeline', r.atBound, r.bound);
  lat('pipeline, small bound:', r.atSmallBound, o.smallBoundMs);
  for (const s of STAGES) {
    const hop = r.rss.get(HOP_OF[s.stage] ?? '');
    row(`${s.worker} peak RSS (VmHWM, ${o.points} registered points)`, r.rss.get(s.worker), 'MB', {
      name: 'its pass-through hop',
      value: hop,
    });
  }
  const cpuCount = cpus().length;
  row(
    `normalizer with 2 replicas sharing its durable, samples/s (${cpuCount} CPUs shared with nats-server)`,
    r.replicas.norm2,
    'samples/s',
    { name: '1 replica', value: r.replicas.norm1 },
  );
  row('pass-through hop with 2 replicas, samples/s (what the machine allows)', r.replicas.hop2, 'samples/s', {
    name: '1 replica',
    value: r.replicas.hop1,
  });
  rows.push({ name: 'worker restarts during the run (0 expected)', value: r.restarts, unit: '' });
  const stalls = [...r.stalls].map(([w, n]) => `${w} ${n}`).join(', ');
  rows.push({
    name: `consume-loop pulls that failed ("heartbeats missed": ~2 s to notice, 1 s before the next pull; nats-server ${r.natsVersion}), either system${stalls ? `: ${stalls}` : ''}`,
    value: [...r.stalls.values()].reduce((a, n) => a + n, 0),
    unit: '',
  });
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const rows = await benchPipeline(process.argv.includes('--quick') ? PIPELINE_QUICK : PIPELINE_DEFAULTS);
  for (const r of rows)
    process.stdout.write(
      `${r.name}: ${r.value.toFixed(1)} ${r.unit}${r.baseline ? ` (${r.baseline.name}: ${r.baseline.value.toFixed(1)}, ratio ${r.ratio?.toFixed(3)})` : ''}\n`,
    );
  process.stdout.write(`took ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}
