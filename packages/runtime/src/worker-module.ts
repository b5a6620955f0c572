import type { z } from 'zod';
import type { RuntimeConfig } from './config.js';
import { loadConfig, unknownWorkerKeys, type LoadConfigOptions } from './config.js';
import { ensureConsumer, ensureStream, type ConsumerSpec } from './provision.js';
import { fabricStreams } from './streams.js';
import { WorkerRuntime } from './worker.js';

/** A running worker: stop() is graceful (stop pulling, finish in-flight). */
export interface RunningWorker {
  stop(): Promise<void>;
}

/**
 * What each service exports so that the CLI can provision it, run it alone (what a container runs) or
 * run it beside the others: its name, its config schema, its durable consumers and its start function.
 */
export interface WorkerModule<S extends z.ZodObject = z.ZodObject> {
  /** Worker name: `busway run <name>`, the config file's `workers.<name>` section, metric label `worker`. */
  name: string;
  /** Pipeline stage it reports its counts under (ingest, normalize, correlate, anomaly, fanout, simulate). */
  stage: string;
  /** One line for `busway --help`. */
  description: string;
  /** Full config schema; extends RuntimeConfigSchema. */
  configSchema: S;
  /** Durable consumers the worker reads from; provisioned idempotently before it starts. */
  consumers(config: z.infer<S>): ConsumerSpec[];
  start(rt: WorkerRuntime, config: z.infer<S>): Promise<RunningWorker>;
}

/** Creates or updates every fabric stream and the module's consumers. */
export async function provisionModule<S extends z.ZodObject>(
  rt: WorkerRuntime,
  mod: WorkerModule<S>,
  config: z.infer<S>,
): Promise<void> {
  const { streamLimits = {}, streamReplicas = 1 } = config as Partial<RuntimeConfig>;
  // replicas and limits from the configuration: a worker must never bring an R3 stream back to one replica
  for (const stream of fabricStreams(streamReplicas, undefined, streamLimits))
    await ensureStream(rt.jsm, stream, rt.log);
  for (const consumer of mod.consumers(config)) await ensureConsumer(rt.jsm, consumer, rt.log);
}

/**
 * Runs one worker as a process runs it: parse config (fail fast), connect, provision, start, mark ready,
 * stop gracefully on SIGTERM. Returns the runtime and the running worker.
 */
export async function runWorker<S extends z.ZodObject>(
  mod: WorkerModule<S>,
  opts: LoadConfigOptions & { signals?: boolean } = {},
): Promise<{ rt: WorkerRuntime; worker: RunningWorker }> {
  const config = loadConfig(mod.configSchema, { ...opts, worker: mod.name });
  const rt = await WorkerRuntime.start(mod.name, config as RuntimeConfig);
  const unknown = unknownWorkerKeys(mod.configSchema, { ...opts, worker: mod.name });
  if (unknown.length > 0)
    rt.log.warn(
      { keys: unknown },
      `config file: keys ${mod.name} does not know, ignored (a typo, or a key of another worker)`,
    );
  // without it the worker's NATS user needs no stream-admin rights: a provisioning job created everything
  if ((config as RuntimeConfig).provision) await provisionModule(rt, mod, config);
  const worker = await mod.start(rt, config);
  rt.onStop(() => worker.stop());
  rt.setReady(true);
  if (opts.signals ?? true) rt.stopOnSignals();
  rt.log.info('ready');
  return { rt, worker };
}
