import { rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { EXEMPLAR_CAPTURE, readCapture, replay } from '@busway/ingest-dsx';
import { sumOf, type PromSample } from '../prometheus.js';
import { Supervisor } from '../supervisor.js';
import type { StackUrls } from '../stack.js';
import { demoApiAccess, demoSources } from './demo-sources.js';
import { watchIncidents, type IncidentSummary } from './demo-incidents.js';
import { connectCli } from '../nats-connect.js';
import type { WorkerEntry } from '../workers.js';

/** The five pipeline stages the demo reports, in flow order, and the worker of each. */
export const DEMO_STAGES = [
  { stage: 'ingest', worker: 'ingest-sparkplug + sparkplug-decode, ingest-dsx' },
  { stage: 'normalize', worker: 'normalizer' },
  { stage: 'correlate', worker: 'correlator' },
  { stage: 'anomaly', worker: 'anomaly' },
  { stage: 'fanout', worker: 'fanout' },
] as const;

export interface StageCounts {
  /** Fabric (or MQTT) messages handled. */
  messages: number;
  samplesIn: number;
  samplesOut: number;
  deadLetters: number;
}

/** What the workers' metrics say. */
export interface StageReport {
  durationMs: number;
  stages: Record<string, StageCounts>;
  simulator: { samplesOut: number };
  /** Samples each ingest worker published (its worker name: count); Sparkplug's are sparkplug-decode's. */
  sources: Record<string, number>;
  /**
   * Job and grid events the correlator took in. Up to the normalizer they count as samples; the correlator
   * counts them apart, so its samples in are the normalizer's out less these.
   */
  events: number;
  dlq: number;
}

export interface DemoReport extends StageReport {
  /** The correlator's incidents, as published while the demo watched. */
  incidents: IncidentSummary;
}

/** Per-stage counts from the workers' metrics. */
export function summarize(samples: PromSample[], durationMs: number): StageReport {
  const stages: Record<string, StageCounts> = {};
  for (const { stage } of DEMO_STAGES) {
    stages[stage] = {
      messages: sumOf(samples, 'busway_messages_total', { stage }),
      samplesIn: sumOf(samples, 'busway_samples_total', { stage, direction: 'in' }),
      samplesOut: sumOf(samples, 'busway_samples_total', { stage, direction: 'out' }),
      deadLetters: sumOf(samples, 'busway_dead_letters_total', { stage }),
    };
  }
  return {
    durationMs,
    stages,
    simulator: {
      samplesOut: sumOf(samples, 'busway_samples_total', { stage: 'simulate', direction: 'out' }),
    },
    sources: sourcesOf(samples),
    events: sumOf(samples, 'busway_correlator_events_total'),
    dlq: sumOf(samples, 'busway_dead_letters_total'),
  };
}

function sourcesOf(samples: PromSample[]): Record<string, number> {
  const workers = new Set(
    samples
      // the workers that publish samples: the Sparkplug bridge only stores messages for sparkplug-decode
      .filter((s) => s.name === 'busway_samples_total' && s.labels.stage === 'ingest' && s.labels.worker)
      .map((s) => s.labels.worker as string),
  );
  return Object.fromEntries(
    [...workers]
      .sort()
      .map((worker) => [worker, sumOf(samples, 'busway_samples_total', { worker, direction: 'out' })]),
  );
}

function progressLine(r: StageReport, elapsedMs: number): string {
  const parts = DEMO_STAGES.map(({ stage }) => `${stage} ${r.stages[stage]?.samplesOut ?? 0}`);
  return `[${(elapsedMs / 1000).toFixed(0).padStart(3)} s] sim ${r.simulator.samplesOut} -> ${parts.join(' -> ')} | dlq ${r.dlq}`;
}

export interface DemoOptions {
  durationMs: number;
  stack: StackUrls;
  workers: readonly Pick<WorkerEntry, 'name'>[];
  simulator: Pick<WorkerEntry, 'name'>;
  site: string;
  seed: number;
  /** Progress lines (stderr with --json). */
  log: (line: string) => void;
  dir: string;
}

/**
 * Runs the simulator and every worker as separate processes for `durationMs`, printing progress, then
 * stops the IT bridges and the simulator they read, lets the pipeline drain, stops the workers in flow order
 * and returns the counts.
 */
export async function demo(opts: DemoOptions): Promise<DemoReport> {
  rmSync(join(opts.dir, 'logs'), { recursive: true, force: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NATS_URL: opts.stack.natsUrl,
    REDIS_URL: opts.stack.redisUrl,
    MQTT_URL: opts.stack.mqttUrl,
    BUSWAY_SITE: opts.site,
    BUSWAY_LOG_LEVEL: process.env.BUSWAY_LOG_LEVEL ?? 'info',
    // job events come from the Slurm bridge, which reads whole seconds up to one poll late
    BUSWAY_OUT_OF_ORDERNESS_MS: process.env.BUSWAY_OUT_OF_ORDERNESS_MS ?? '3000',
  };
  const sup = new Supervisor(env, join(opts.dir, 'logs'), opts.log);
  const nc = await connectCli(opts.stack.natsUrl, 'tail', env);
  const incidents = watchIncidents(nc);
  try {
    const api = await demoApiAccess();
    for (const w of opts.workers) await sup.start(w.name, w.name === 'api' ? api.env : {});
    await sup.waitReady();
    const sources = await demoSources({ ...env, BUSWAY_SEED: String(opts.seed) });
    await sup.start(opts.simulator.name, {
      BUSWAY_SEED: String(opts.seed),
      BUSWAY_GROUND_TRUTH_PATH: join(opts.dir, 'ground-truth.jsonl'),
      ...sources.simulatorEnv,
    });
    await sup.waitReady();
    // the IT bridges read what the simulator serves: started once it serves it
    for (const b of sources.bridges) await sup.start(b.name, b.env);
    await sup.waitReady();
    opts.log(`REST API: ${api.example(opts.site)}`);
    opts.log(
      `pipeline up; simulating ${opts.durationMs / 1000} s of an AI factory (logs in ${join(opts.dir, 'logs')})`,
    );
    // the second OT source: a real DSX Exchange BMS capture, replayed at its recorded pace
    const stopReplay = new AbortController();
    const bms = await mqtt.connectAsync(opts.stack.mqttUrl, { clientId: `busway-demo-bms-${process.pid}` });
    const replaying = replay(bms, readCapture(EXEMPLAR_CAPTURE), 1, stopReplay.signal);

    const started = Date.now();
    let last = summarize([], 0);
    while (Date.now() - started < opts.durationMs) {
      await new Promise((r) => setTimeout(r, Math.min(2000, opts.durationMs - (Date.now() - started))));
      last = summarize(await sup.scrape(), Date.now() - started);
      opts.log(progressLine(last, Date.now() - started));
    }

    stopReplay.abort();
    const bmsSent = (await replaying).length;
    await bms.endAsync();
    opts.log(`DSX BMS capture: ${bmsSent} messages replayed`);
    // retired (their counts stay in the report): the IT bridges first, so none polls a simulator that is gone
    // and the VEN can still delete its subscription at the VTN
    for (const b of sources.bridges) await sup.retire(b.name);
    await sup.retire(opts.simulator.name);
    opts.log('IT bridges and simulator stopped; letting the pipeline drain');
    // the correlator releases its last samples once their sources are idle and the watermark has passed them:
    // fan-out may sit still for the out-of-orderness bound plus the idle timeout (3 s) before they arrive
    const quietS = Math.ceil(Number(env.BUSWAY_OUT_OF_ORDERNESS_MS) / 1000) + 3 + 2;
    let stable = 0;
    const drainDeadline = Date.now() + (quietS + 20) * 1000;
    while (stable < quietS && Date.now() < drainDeadline) {
      await new Promise((r) => setTimeout(r, 1000));
      const next = summarize(await sup.scrape(), Date.now() - started);
      stable = next.stages.fanout?.samplesIn === last.stages.fanout?.samplesIn ? stable + 1 : 0;
      last = next;
    }
    const report = summarize(await sup.scrape(), opts.durationMs);
    await sup.stopAll(opts.workers.map((w) => w.name));
    return { ...report, incidents: incidents.summary() };
  } catch (err) {
    await sup.stopAll([]); // a failed demo leaves no worker behind on the machine's shared services
    throw err;
  } finally {
    incidents.stop();
    await nc.close();
  }
}
