import type { Context } from '@opentelemetry/api';
import { context } from '@opentelemetry/api';
import type { JsMsg } from '@nats-io/jetstream';
import type { Redis } from 'ioredis';
import { busway, EventTypes, Streams, Subjects } from '@busway/proto';
import {
  backoffMs,
  HOLD,
  LogSummary,
  mergeProvenance,
  provenanceOf,
  publishFabric,
  readEnvelope,
  rewindConsumer,
  sleep,
  startConsumeLoop,
  type ConsumeLoop,
  type Outcome,
  type WorkerRuntime,
} from '@busway/runtime';
import { checkpointKey, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { CorrelatorConfig } from './config.js';
import { partitionConsumers } from './consumers.js';
import { CorrelationEngine } from './engine.js';
import type { CorrelatorMetrics } from './metrics.js';
import { PartitionCore, type OutBatch, type Outputs } from './partition-core.js';
import { RawBatchWriter, type RawSample } from './raw-sample.js';
import { partitionOf } from './partitioning.js';
import type { RuleSet } from './rules.js';
import type { Topology } from './topology.js';

const STAGE = 'correlate';
const WORKER = 'correlator';
const SOURCE = '/busway/correlator';

export interface PartitionDeps {
  rt: WorkerRuntime;
  config: CorrelatorConfig;
  rules: RuleSet;
  topology: () => Topology;
  redis: Redis;
  metrics: CorrelatorMetrics;
}

export interface RunningPartition {
  /** Graceful: stop pulling, finish the batch in hand, publish, checkpoint, acknowledge. */
  stop(): Promise<void>;
}

/**
 * One partition owned by this replica: its consumers, its core, its checkpoints. Everything that touches the
 * core runs one at a time (batches of either input, timer flushes, checkpoints). Inputs are acknowledged
 * only once a checkpoint covering them is in Redis; outputs are published (PubAck) before that checkpoint.
 * A crash therefore replays from the last checkpoint, and the replayed outputs carry the same ids, which the
 * streams' duplicate window drops.
 */
export async function startPartition(deps: PartitionDeps, partition: number): Promise<RunningPartition> {
  const { rt, config, redis, metrics } = deps;
  const log = rt.log.child({ partition });
  const label = { partition: String(partition) };
  const specs = partitionConsumers(config, partition);
  const scope = {
    partition,
    partitionCount: config.partitionCount,
    ownsRack: (p: busway.v1.IUnsPath) =>
      partitionOf(
        [p.site ?? '', p.hall ?? '', p.row ?? '', p.rack ?? ''],
        config.partitionCount,
        config.partitionBy,
      ) === partition,
  };
  const engine = new CorrelationEngine(deps.rules, deps.topology, config.site, scope);
  const core = new PartitionCore(
    { ...config, partition, partitionCount: config.partitionCount, partitionBy: config.partitionBy },
    engine,
    specs.length,
  );
  const key = checkpointKey(config.checkpointPrefix, config.durable, partition);
  const saved = await loadCheckpoint(redis, key, partition);
  if (saved && saved.inputs.length === specs.length) {
    core.restore(saved, Date.now());
    for (const [i, spec] of specs.entries()) {
      const from = saved.inputs[i]?.replayFrom ?? 1;
      if (await rewindConsumer(rt.jsm, spec, from))
        log.info({ consumer: spec.durable, from }, 'replaying from the checkpoint');
    }
    log.info({ watermark: new Date(saved.buffer.emittedMs).toISOString() }, 'checkpoint restored');
  } else if (saved) log.warn('checkpoint does not match the partition layout; starting without it');

  let held: JsMsg[] = [];
  let dirty = false;
  let stopping = false;
  let unstored = false;
  const abort = new AbortController();
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn);
    chain = p.catch(() => undefined);
    return p;
  };
  const lateLog = new LogSummary(log, 'late samples sent to ordered.v1.late:');
  let last = { ...core.stats, duplicates: 0, forced: 0 };

  const report = () => {
    const s = core.stats;
    const b = core.buffer;
    metrics.late.inc({ ...label, outcome: 'dropped' }, s.lateDropped - last.lateDropped);
    metrics.late.inc({ ...label, outcome: 're-emitted' }, s.lateReemitted - last.lateReemitted);
    metrics.duplicates.inc(label, b.duplicates - last.duplicates);
    metrics.forced.inc(label, b.forced - last.forced);
    metrics.mismatched.inc(label, s.mismatched - last.mismatched);
    // input JetStream delivered again after this process had taken it in: held for the ack, not pushed twice
    rt.metrics.messages.inc(
      { stage: STAGE, outcome: 'redelivered-skipped' },
      s.redeliveredSkipped - last.redeliveredSkipped,
    );
    rt.metrics.samples.inc({ stage: STAGE, direction: 'in' }, s.samplesIn - last.samplesIn);
    // read again from the checkpoint's position: taken in (and counted) by the process before this one
    rt.metrics.samples.inc({ stage: STAGE, direction: 'replayed' }, s.samplesReplayed - last.samplesReplayed);
    metrics.events.inc(label, s.eventsIn - last.eventsIn);
    rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, s.samplesOut - last.samplesOut);
    if (s.lateDropped > last.lateDropped)
      lateLog.add(`partition ${partition}`, s.lateDropped - last.lateDropped);
    if (s.mismatched > last.mismatched)
      log.error(
        { partitionCount: config.partitionCount, partitionBy: config.partitionBy },
        "a sample subject's partition suffix disagrees with this configuration: the server's mapping differs",
      );
    last = { ...s, duplicates: b.duplicates, forced: b.forced };
    metrics.buffered.set(label, b.size);
    metrics.keys.set(label, b.keys);
    metrics.openWindows.set(label, engine.openWindows);
    if (Number.isFinite(b.emittedWatermarkMs))
      metrics.watermarkLag.set(label, (Date.now() - b.emittedWatermarkMs) / 1000);
    rt.metrics.inFlight.set({ stage: STAGE }, held.length);
  };

  const writer = new RawBatchWriter(); // synchronous: one serves every batch of this partition
  const publishAll = async (o: Outputs, ctx: Context) => {
    const batchJob =
      <T>(type: string, encode: (items: T[]) => Uint8Array) =>
      (b: OutBatch<T>) =>
      async () => {
        const data = encode(b.items);
        // continue or link the inputs' traces
        await send(b.subject, data, type, b.id, b.sources ? mergeProvenance(b.sources, ctx) : ctx);
        writer.slabs.release(data); // stored: its memory serves later batches (ignored if not the writer's)
      };
    const samples = batchJob<RawSample>(EventTypes.SampleBatch, (samples) => writer.write(samples));
    const events = batchJob<busway.v1.IEvent>(EventTypes.EventBatch, (events) =>
      busway.v1.EventBatch.encode({ events }).finish(),
    );
    const jobs: (() => Promise<unknown>)[] = [
      ...o.ordered.map(samples),
      ...o.late.map(samples),
      ...o.events.map(events),
      ...o.incidents.map((inc) => () => {
        metrics.incidents.inc({ kind: inc.kind ?? 'unknown' });
        return send(
          Subjects.incident(inc.path?.site ?? config.site, inc.kind ?? 'unknown'),
          busway.v1.Incident.encode(inc).finish(),
          EventTypes.Incident,
          inc.id ?? '',
          ctx,
        );
      }),
    ];
    // outputs already left the buffer: retry until stored (same ids), or give up only when stopping
    let pending = jobs;
    for (let attempt = 0; pending.length > 0; attempt++) {
      const results = await Promise.allSettled(pending.map((j) => j()));
      pending = pending.filter((_, i) => results[i]?.status === 'rejected');
      if (pending.length === 0) break;
      const err = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error;
      if (stopping) {
        unstored = true; // the core is ahead of what is stored: no checkpoint may record it
        throw new Error(`outputs not stored while stopping: ${err.message}`);
      }
      log.warn({ err: err.message, pending: pending.length, attempt }, 'publish failed; retrying');
      await sleep(backoffMs(attempt + 1, 100, 5000), abort.signal);
    }
  };
  const send = (subject: string, data: Uint8Array, type: string, id: string, ctx: Context) =>
    publishFabric(rt.publisher, subject, data, { type, source: SOURCE, id }, ctx);

  const flush = async (ctx: Context = context.active()) => {
    const o = core.flush(Date.now());
    await publishAll(o, ctx);
    // a release changes what to checkpoint even with no input behind it (the last sources going idle)
    if (o.ordered.length + o.late.length + o.events.length + o.incidents.length > 0) dirty = true;
    report();
  };

  const checkpoint = async () => {
    if (!dirty || unstored || !core.checkpointable(Date.now())) return;
    const c = core.checkpoint(Date.now());
    try {
      metrics.checkpointBytes.set(label, await saveCheckpoint(redis, key, c));
      metrics.checkpoints.inc({ ...label, outcome: 'ok' });
    } catch (err) {
      metrics.checkpoints.inc({ ...label, outcome: 'failed' });
      log.warn({ err: (err as Error).message }, 'checkpoint failed; inputs stay unacknowledged');
      return;
    }
    for (const m of held) m.ack();
    held = [];
    dirty = false;
  };

  const handle =
    (input: number) =>
    (batch: JsMsg[], ctx: Context): Promise<Outcome[]> =>
      serial(async () => {
        const now = Date.now();
        const trace = provenanceOf(ctx); // kept with the items the buffer holds
        const outcomes = batch.map((msg): Outcome => {
          const type = readEnvelope(msg.headers).type;
          const r = core.ingest(
            {
              input,
              seq: msg.seq,
              subject: msg.subject,
              type,
              trace,
              pending: msg.info.pending,
              delivery: msg.info.deliverySequence,
              redelivered: msg.info.redelivered,
            },
            msg.data,
            now,
          );
          if (r.kind === 'poison') return { kind: 'poison', code: r.code, message: r.message };
          held.push(msg);
          dirty = true;
          return HOLD;
        });
        await flush(ctx);
        return outcomes;
      });

  const loops: ConsumeLoop[] = [];
  for (const [i, spec] of specs.entries())
    loops.push(
      await startConsumeLoop({
        stage: STAGE,
        worker: WORKER,
        js: rt.js,
        stream: Streams.Norm.name,
        durable: spec.durable,
        config,
        metrics: rt.metrics,
        log,
        termWithReason: rt.features().termWithReason,
        handle: handle(i),
        onPull: (pull) => {
          if (pull.ok) {
            if (pull.messages === 0) core.setBacklog(i, 0);
            return;
          }
          // a failed pull says nothing of the input (nats-server 2.9 fails quiet pulls on missed heartbeats): ask
          core.setBacklog(i, Number.POSITIVE_INFINITY);
          rt.jsm.consumers.info(Streams.Norm.name, spec.durable).then(
            (info) => core.setBacklog(i, info.num_pending),
            () => undefined, // still unknown: the next pull tells
          );
        },
      }),
    );
  const onError = (what: string) => (err: unknown) =>
    log.error({ err }, `${what} failed; retrying on the next tick`);
  const flushTimer = setInterval(
    () => void serial(() => flush()).catch(onError('flush')),
    config.flushIntervalMs,
  );
  const checkpointTimer = setInterval(
    () => void serial(checkpoint).catch(onError('checkpoint')),
    config.checkpointIntervalMs,
  );
  log.info({ consumers: specs.map((s) => s.durable) }, 'partition running');

  return {
    async stop() {
      stopping = true; // a publish retrying now gives up: its batch is redelivered, nothing was checkpointed
      abort.abort();
      await Promise.all(loops.map((l) => l.stop()));
      clearInterval(flushTimer);
      clearInterval(checkpointTimer);
      await serial(async () => {
        await flush();
        await checkpoint();
      }).catch((err: unknown) =>
        log.error({ err }, 'final flush or checkpoint failed; the last checkpoint replays what followed it'),
      );
      lateLog.close();
    },
  };
}
