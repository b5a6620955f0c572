// The end-to-end benchmark's rig: servers, the registry, the real pipeline workers (CLI Supervisor) and the
// ceiling (a pass-through process per hop, with each stage's consumer settings), and counters read over time.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { provision, Supervisor, sumOf, WORKERS } from '@busway/cli';
import type { SiteModel } from '@busway/registry';
import {
  ensureConsumer,
  ensureStream,
  fabricStreams,
  loadConfig,
  NATS_CLIENT_TUNING,
  type ConsumerConfig,
  type ConsumerSpec,
} from '@busway/runtime';
import { startNats, startRedis, type TestServer } from '@busway/testkit';
import { BenchProcess } from './bench-process.js';
import { procStatusMb, type CountAt } from './measure.js';
import type { HopOptions } from './passthrough-worker.js';

type PromSample = Awaited<ReturnType<Supervisor['scrape']>>[number];
const HOP_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'passthrough-worker.js');

/** The pipeline's consuming workers in flow order (the bench publishes into RAW as a bridge would). */
export const STAGES = [
  { worker: 'normalizer', stage: 'normalize' },
  { worker: 'correlator', stage: 'correlate' },
  { worker: 'anomaly', stage: 'anomaly' },
  { worker: 'fanout', stage: 'fanout' },
] as const;

/**
 * The ceiling's hops, each with the consumer of the stage it stands for: RAW → NORM → ORDERED → UNS, plus
 * a reader on ORDERED that only acknowledges, as anomaly reads it beside fan-out.
 */
export const HOPS = [
  { name: 'pass-normalize', worker: 'normalizer', stream: 'RAW', from: 'raw', to: 'norm' },
  { name: 'pass-correlate', worker: 'correlator', stream: 'NORM', from: 'norm', to: 'ordered' },
  { name: 'pass-fanout', worker: 'fanout', stream: 'ORDERED', from: 'ordered', to: 'uns' },
  { name: 'pass-anomaly', worker: 'anomaly', stream: 'ORDERED', from: 'ordered', to: undefined },
] as const;
export type HopName = (typeof HOPS)[number]['name'];

/** The ceiling's stream for a fabric stream: same limits, subjects pass.<hop>.> */
const passStream = (name: string) => `PASS_${name}`;
export const passSubject = (hop: string, chunk: number) => `pass.${hop}.c${chunk}`;

/** The durable consumer a stage reads `stream` through, and the stage's consume-loop settings. */
async function stageConsumer(
  worker: string,
  stream: string,
  env: NodeJS.ProcessEnv,
): Promise<{ spec: ConsumerSpec; config: ConsumerConfig }> {
  const mod = await WORKERS.find((w) => w.name === worker)?.load();
  if (!mod) throw new Error(`no worker ${worker}`);
  const config = loadConfig(mod.configSchema, { env, worker }) as ConsumerConfig;
  const specs = mod.consumers(config).filter((s) => s.stream === stream);
  // fan-out and anomaly read ORDERED twice or more (events too): the samples consumer is the hop
  const spec = specs.find((s) => s.filterSubject?.includes('samples')) ?? specs[0];
  if (!spec) throw new Error(`${worker} has no consumer on ${stream}`);
  return { spec, config };
}

export class PipelineRig {
  readonly sup: Supervisor;
  readonly logDir = mkdtempSync(join(tmpdir(), 'busway-bench-pipeline-'));
  private readonly hopEnv = new Map<string, NodeJS.ProcessEnv>();
  /** Pass-through processes by name; `pass-normalize#2` is a second replica. */
  readonly hops = new Map<string, BenchProcess>();
  /** Worker restarts the Supervisor reported (a worker that died mid-run makes its figures suspect). */
  readonly events: string[] = [];

  private constructor(
    readonly nats: TestServer,
    readonly redis: TestServer,
    readonly env: NodeJS.ProcessEnv,
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
  ) {
    this.sup = new Supervisor(env, this.logDir, (line) => this.events.push(line));
  }

  get js() {
    return jetstream(this.nc);
  }

  /** Servers, streams (fabric and ceiling), the stages' consumers and both systems' consumers, the registry. */
  static async start(siteModel: SiteModel): Promise<PipelineRig> {
    const [nats, redis] = await Promise.all([startNats(), startRedis()]);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NATS_URL: nats.url,
      REDIS_URL: redis.url,
      BUSWAY_SITE: siteModel.site,
      BUSWAY_LOG_LEVEL: 'warn',
      BUSWAY_CONFIG: '',
    };
    const workers = WORKERS.filter((w) => STAGES.some((s) => s.worker === w.name));
    await provision({ natsUrl: nats.url, redisUrl: redis.url, siteModel, workers, env, logLevel: 'warn' });
    const nc = await connect({ servers: nats.url, ...NATS_CLIENT_TUNING });
    const rig = new PipelineRig(nats, redis, env, nc, await jetstreamManager(nc));
    const fabric = fabricStreams();
    for (const hop of ['RAW', 'NORM', 'ORDERED', 'UNS']) {
      const spec = fabric.find((s) => s.name === hop);
      if (!spec) throw new Error(`no fabric stream ${hop}`);
      const prefix = { RAW: 'raw', NORM: 'norm', ORDERED: 'ordered', UNS: 'uns' }[hop];
      await ensureStream(rig.jsm, { ...spec, name: passStream(hop), subjects: [`pass.${prefix}.>`] });
    }
    for (const hop of HOPS) {
      const { spec, config } = await stageConsumer(hop.worker, hop.stream, env);
      await ensureConsumer(rig.jsm, {
        ...spec,
        stream: passStream(hop.stream),
        durable: hop.name,
        filterSubject: `pass.${hop.from}.>`,
      });
      rig.hopEnv.set(hop.name, {
        ...env,
        BUSWAY_BATCH_SIZE: String(config.batchSize),
        BUSWAY_MAX_BYTES: String(config.maxBytes),
        BUSWAY_MAX_ACK_PENDING: String(spec.maxAckPending),
        BUSWAY_ACK_WAIT_MS: String(spec.ackWaitMs),
        BUSWAY_MAX_DELIVER: String(spec.maxDeliver),
        BUSWAY_FETCH_EXPIRES_MS: String(config.fetchExpiresMs),
      });
    }
    return rig;
  }

  /** Starts the pass-through of `name` (replica `replica`, 1-based). */
  async startHop(name: HopName, samplesPerMessage: number, replica = 1): Promise<void> {
    const hop = HOPS.find((h) => h.name === name) as (typeof HOPS)[number];
    const opts: HopOptions = {
      name: hop.name,
      stream: passStream(hop.stream),
      durable: hop.name,
      fromPrefix: `pass.${hop.from}.`,
      ...(hop.to ? { toPrefix: `pass.${hop.to}.` } : {}),
      samplesPerMessage,
    };
    const key = replica === 1 ? name : `${name}#${replica}`;
    const proc = await BenchProcess.start(
      key.replace('#', '-'),
      HOP_SCRIPT,
      [JSON.stringify(opts)],
      this.hopEnv.get(name) ?? this.env,
      this.logDir,
    );
    this.hops.set(key, proc);
  }

  async stopHops(): Promise<void> {
    await Promise.all([...this.hops.values()].map((h) => h.stop()));
    this.hops.clear();
  }

  /** Sends a signal to every hop process (SIGSTOP / SIGCONT freeze and thaw them). */
  signalHops(sig: NodeJS.Signals): void {
    for (const h of this.hops.values()) h.signal(sig);
  }

  /** Every hop process's metrics. */
  async scrapeHops(): Promise<PromSample[]> {
    return (await Promise.all([...this.hops.values()].map((h) => h.scrape()))).flat();
  }

  /** Peak resident memory (VmHWM) of each pipeline worker and each hop process, MB. */
  peakRssMb(): Map<string, number> {
    const out = new Map<string, number>();
    const read = (name: string, pid: number | undefined) => {
      if (pid === undefined) return;
      try {
        const mb = procStatusMb(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmHWM');
        if (mb !== undefined) out.set(name, mb);
      } catch {
        // not Linux, or the process is gone: no figure
      }
    };
    for (const s of STAGES) read(s.worker, this.sup.pid(s.worker));
    for (const [name, h] of this.hops) read(name, h.pid);
    return out;
  }

  /** Per log file (worker or hop, replicas included): consume-loop pulls that failed ("pull failed; retrying"). */
  failedPulls(): Map<string, number> {
    const out = new Map<string, number>();
    const scan = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) scan(join(dir, e.name));
        else if (e.name.endsWith('.log')) {
          const n = readFileSync(join(dir, e.name), 'utf8').split('"msg":"pull failed; retrying"').length - 1;
          const name = e.name.replace(/\.log$/, '');
          if (n > 0) out.set(name, (out.get(name) ?? 0) + n);
        }
      }
    };
    scan(this.logDir);
    return out;
  }

  async close(): Promise<void> {
    await this.sup.stopAll(STAGES.map((s) => s.worker));
    await this.stopHops();
    await this.nc.close();
    await Promise.all([this.nats.dispose(), this.redis.dispose()]);
  }
}

/** The counters a run follows, by key, each read `intervalMs` apart until stopped. */
export class CounterLog {
  readonly series = new Map<string, CountAt[]>();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(read: () => Promise<Record<string, number>>, intervalMs: number) {
    this.loop = (async () => {
      while (this.running) {
        const values = await read();
        const tMs = performance.now();
        for (const [k, count] of Object.entries(values)) {
          const s = this.series.get(k) ?? [];
          s.push({ tMs, count });
          this.series.set(k, s);
        }
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    })();
  }

  /** The newest reading of `key` (0 before the first). */
  latest(key: string): number {
    const s = this.series.get(key);
    return s?.[s.length - 1]?.count ?? 0;
  }

  /** Readings of `key` relative to the first one (counters of a process that ran before start at 0 here). */
  relative(key: string): CountAt[] {
    const s = this.series.get(key) ?? [];
    const base = s[0]?.count ?? 0;
    return s.map((r) => ({ tMs: r.tMs, count: r.count - base }));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

/** Per-stage counters of the pipeline workers: samples in/out by stage, CPU seconds by worker. */
export function pipelineCounters(samples: PromSample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of STAGES) {
    out[`in:${s.stage}`] = sumOf(samples, 'busway_samples_total', { stage: s.stage, direction: 'in' });
    out[`cpu:${s.stage}`] = sumOf(samples, 'busway_process_cpu_seconds_total', { worker: s.worker });
  }
  out['out:fanout'] = sumOf(samples, 'busway_samples_total', { stage: 'fanout', direction: 'out' });
  out.dlq = sumOf(samples, 'busway_dead_letters_total');
  out.watermarkLagS = sumOf(samples, 'busway_watermark_lag_seconds');
  // never reach UNS by design: behind the correlator's watermark, or not newer than fan-out's last value
  out.lost =
    sumOf(samples, 'busway_late_samples_total', { outcome: 'dropped' }) +
    sumOf(samples, 'busway_samples_total', { stage: 'fanout', direction: 'stale' });
  return out;
}

/** The same for the ceiling's hops (each counts messages x samples per message). */
export function hopCounters(samples: PromSample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of HOPS) {
    out[`in:${h.name}`] = sumOf(samples, 'busway_samples_total', { stage: h.name, direction: 'out' });
    out[`cpu:${h.name}`] = sumOf(samples, 'busway_process_cpu_seconds_total', { worker: h.name });
  }
  out.dlq = sumOf(samples, 'busway_dead_letters_total');
  out.lost = 0;
  return out;
}
