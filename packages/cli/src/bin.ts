#!/usr/bin/env node
// The `busway` command: demo, up, run, provision, tail, status, dlq, redrive.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, runWorker } from '@busway/runtime';
import { demo, DEMO_STAGES } from './commands/demo.js';
import { dlqList, dlqRedrive } from './commands/dlq.js';
import { provision } from './commands/provision.js';
import { fabricStatus, formatStatus } from './commands/status.js';
import { tail } from './commands/tail.js';
import { defaultLogDir, up } from './commands/up.js';
import { parseDurationMs } from './duration.js';
import { explainCliError } from './nats-connect.js';
import { demoDir, ensureLocalStack } from './stack.js';
import {
  CATALOG,
  describeWorkers,
  findWorker,
  loadWorker,
  PIPELINE,
  WORKERS,
  type WorkerEntry,
} from './workers.js';

const usage = async () => `busway — IT/OT telemetry fabric on NATS JetStream

Usage:
  busway demo [--duration 60s] [--json] [--seed N]   whole pipeline on a simulated AI factory
  busway up [--config file]                          every worker (no simulator) against NATS_URL, REDIS_URL, MQTT_URL
  busway run <worker> [--config file]                one worker (what a container runs)
  busway provision [--site-model file | --sim-site] [--workers a,b]
                                                     streams, consumers (of the workers named; all unless told)
                                                     and the asset registry (idempotent)
  busway tail <subject> [--json] [--count N]         decode fabric messages, one line per sample/event
  busway status [--json]                             streams, consumers (lag, unread), dead letters, registry version
  busway dlq [worker] [--code C] [--count N]         the dead letters stored, oldest first (--json)
  busway redrive <worker> [--code C] [--dry-run]     send a worker's dead letters back once their cause is fixed
  busway workers                                     list the workers

Workers:
${(await describeWorkers()).map((w) => `  ${w.name.padEnd(18)} ${w.description}`).join('\n')}
`;

const err = (line: string) => process.stderr.write(`${line}\n`);
const natsUrlOf = (env: NodeJS.ProcessEnv) => env.NATS_URL ?? 'nats://127.0.0.1:4222';
const redisUrlOf = (env: NodeJS.ProcessEnv) => env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** `--count N`: a whole number of at least 0, or none given. */
function countOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--count takes a whole number of 0 or more, not '${value}'`);
  return n;
}

/** The catalog entries of a comma-separated list of worker names; an unknown name is an error. */
function workersNamed(list: string): WorkerEntry[] {
  return list.split(',').map((name) => {
    const entry = findWorker(name.trim());
    if (!entry)
      throw new Error(`unknown worker '${name.trim()}'; one of: ${CATALOG.map((w) => w.name).join(', ')}`);
    return entry;
  });
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      // a job's chain closes about 35 s after its power step: 60 s shows complete ones
      duration: { type: 'string', default: '60s' },
      json: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
      count: { type: 'string' },
      code: { type: 'string' },
      workers: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      config: { type: 'string' },
      'site-model': { type: 'string' },
      'sim-site': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, arg] = positionals;
  if (values.config) process.env.BUSWAY_CONFIG = values.config;
  if (values.help || !command) {
    process.stdout.write(await usage());
    return command || values.help ? 0 : 2;
  }
  const env = process.env;
  switch (command) {
    case 'workers':
      for (const w of await describeWorkers())
        process.stdout.write(`${w.name}\t${w.stage}\t${w.description}\n`);
      return 0;
    case 'run': {
      const mod = arg ? await loadWorker(arg) : undefined;
      if (!mod) {
        err(`unknown worker '${arg ?? ''}'; one of: ${CATALOG.map((w) => w.name).join(', ')}`);
        return 2;
      }
      await runWorker(mod);
      return -1; // keeps running until a signal
    }
    case 'provision': {
      const natsUrl = natsUrlOf(env);
      const siteModel = values['sim-site'] ? await simSiteModel(env) : values['site-model'];
      const result = await provision({
        natsUrl,
        redisUrl: redisUrlOf(env),
        siteModel,
        workers: values.workers ? workersNamed(values.workers) : WORKERS,
        env,
      });
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return 0;
    }
    case 'tail': {
      if (!arg) {
        err('busway tail <subject>: a subject is required, e.g. uns.v1.> or norm.v1.samples.>');
        return 2;
      }
      await tail({ natsUrl: natsUrlOf(env), subject: arg, json: values.json, count: countOf(values.count) });
      return 0;
    }
    case 'status': {
      const status = await fabricStatus(natsUrlOf(env), redisUrlOf(env), env.BUSWAY_SITE ?? 'ai1');
      const lines = values.json ? [JSON.stringify(status)] : formatStatus(status);
      for (const line of lines) process.stdout.write(`${line}\n`);
      return 0;
    }
    case 'dlq':
      await dlqList({
        natsUrl: natsUrlOf(env),
        worker: arg,
        code: values.code,
        json: values.json,
        count: countOf(values.count),
      });
      return 0;
    case 'redrive': {
      if (!arg) {
        err('busway redrive <worker>: the worker whose dead letters to send back, e.g. normalizer');
        return 2;
      }
      const options = { natsUrl: natsUrlOf(env), worker: arg, code: values.code, json: values.json };
      await dlqRedrive({ ...options, dryRun: values['dry-run'] });
      return 0;
    }
    case 'up': {
      await up({ workers: PIPELINE, env, logDir: defaultLogDir(), log: err });
      return 0;
    }
    case 'demo':
      return runDemo(values.duration, values.json, Number.parseInt(values.seed, 10));
    default:
      err(`unknown command '${command}'\n`);
      process.stderr.write(await usage());
      return 2;
  }
}

async function simSiteModel(env: NodeJS.ProcessEnv) {
  // the simulator's code is loaded only for this (and the demo), never by `busway run`
  const { buildSiteModel, SimulatorConfigSchema } = await import('@busway/simulator');
  return buildSiteModel(loadConfig(SimulatorConfigSchema, { env, worker: 'simulator' }));
}

async function runDemo(duration: string, json: boolean, seed: number): Promise<number> {
  const durationMs = parseDurationMs(duration);
  const log = json ? err : (line: string) => process.stdout.write(`${line}\n`);
  const site = process.env.BUSWAY_SITE ?? 'ai1';
  log('bringing up the local stack (NATS JetStream, Redis, Mosquitto)');
  const stack = ensureLocalStack();
  const env = {
    ...process.env,
    NATS_URL: stack.natsUrl,
    REDIS_URL: stack.redisUrl,
    MQTT_URL: stack.mqttUrl,
    BUSWAY_SITE: site,
  };
  const simulator = findWorker('simulator') as WorkerEntry;
  const { buildSiteModel, SimulatorConfigSchema } = await import('@busway/simulator');
  const siteModel = buildSiteModel(
    loadConfig(SimulatorConfigSchema, { env, worker: 'simulator', overrides: { seed } }),
  );
  const prov = await provision({
    natsUrl: stack.natsUrl,
    redisUrl: stack.redisUrl,
    siteModel,
    // the consumers of the workers the demo runs: a durable nobody reads only piles up pending messages
    workers: PIPELINE,
    env,
    logLevel: 'warn', // the demo prints its own one-line summary of provisioning
  });
  log(
    `provisioned ${prov.streams} streams, ${prov.consumers} consumers; registry v${prov.registryVersion} with ${siteModel.points.length} points`,
  );
  const report = await demo({
    durationMs,
    stack,
    workers: PIPELINE,
    simulator,
    site,
    seed,
    log,
    dir: demoDir(),
  });
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    log('');
    log('stage       messages   samples in  samples out  dead letters');
    for (const { stage } of DEMO_STAGES) {
      const s = report.stages[stage];
      if (!s) continue;
      log(
        `${stage.padEnd(10)} ${String(s.messages).padStart(9)} ${String(s.samplesIn).padStart(12)} ${String(s.samplesOut).padStart(12)} ${String(s.deadLetters).padStart(13)}`,
      );
    }
    log(
      `simulator published ${report.simulator.samplesOut} samples; dead letters: ${report.dlq}${report.dlq > 0 ? ' (read them: npx busway dlq)' : ''}`,
    );
    const sources = Object.entries(report.sources).map(([w, n]) => `${w} ${n}`);
    log(`samples by source: ${sources.join(', ')}`);
    log(
      `job and grid events: ${report.events} (counted with the samples up to normalize; the correlator counts them apart)`,
    );
    const kinds = Object.entries(report.incidents.byKind).map(([k, n]) => `${k} ${n}`);
    // a job's chain closes once its coolant answer is fitted: about 35 s after its power step
    log(`incidents: ${kinds.length > 0 ? kinds.join(', ') : 'none (run the demo longer than a minute)'}`);
    if (report.incidents.examples.length > 0)
      log('  (power lags from the job event, thermal ones from the rack power step)');
    for (const line of report.incidents.examples) log(`  ${line}`);
    log(
      `ground truth: ${join(demoDir(), 'ground-truth.jsonl')}; try: npx busway tail 'uns.v1.${site}.*.*.*.cdu.>'`,
    );
  }
  const allFlowing = DEMO_STAGES.every(({ stage }) => (report.stages[stage]?.samplesOut ?? 0) > 0);
  return allFlowing ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    const command = process.argv.slice(2).find((a) => !a.startsWith('-')) ?? '';
    err(`busway: ${explainCliError(command, e instanceof Error ? e.message : String(e))}`);
    process.exit(1);
  },
);
