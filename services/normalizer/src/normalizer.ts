import { createHash } from 'node:crypto';
import type { Context } from '@opentelemetry/api';
import type { JsMsg } from '@nats-io/jetstream';
import { busway, EventTypes, Streams, Subjects, token } from '@busway/proto';
import { RegistryClient, type CompactRegistry } from '@busway/registry';
import {
  ACK,
  ConfigError,
  DecodeError,
  LogSummary,
  publishDeadLetter,
  publishFabric,
  readEnvelope,
  startConsumeLoop,
  type Outcome,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import type { NormalizerConfig } from './config.js';
import { Deadband } from './deadband.js';
import { enrichJob, SampleNormalizer } from './normalize.js';
import { normalizeBatch } from './normalize-batch.js';

const STAGE = 'normalize';
const WORKER = 'normalizer';

/** Consumes RAW, normalizes samples and events, publishes per rack to NORM; bad samples go to the DLQ alone. */
export async function startNormalizer(rt: WorkerRuntime, config: NormalizerConfig): Promise<RunningWorker> {
  let registryClient: RegistryClient<CompactRegistry>;
  try {
    registryClient = await RegistryClient.connectCompact(config.redisUrl, config.site);
  } catch (err) {
    throw new ConfigError(
      `cannot reach the asset registry in Redis at ${config.redisUrl}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  rt.log.info(
    { registryVersion: registryClient.registry.version, points: registryClient.registry.pointCount },
    'registry loaded',
  );
  registryClient.onChange((r) => rt.log.info({ registryVersion: r.version }, 'registry reloaded'));
  rt.metrics.reportRegistryVersion(() => registryClient.registry.version);
  const rejected = new LogSummary(rt.log, 'rejected samples:');
  const rules = { taiUtcOffsetS: config.taiUtcOffsetS, maxFutureSkewMs: config.maxFutureSkewMs };
  const deadband = new Deadband(config.deadbandMaxSilenceMs);
  const normalizer = new SampleNormalizer(registryClient.registry, config.site, rules);

  const handleSamples = async (msg: JsMsg, inputId: string, ctx: Context): Promise<Outcome> => {
    const reporting = deadband.stage();
    normalizer.use(registryClient.registry);
    const r = normalizeBatch(msg.data, normalizer, reporting);
    const work: Promise<unknown>[] = [];
    for (const { data, reason } of r.rejected) {
      work.push(
        publishDeadLetter(
          rt.js,
          WORKER,
          msg.subject,
          data,
          msg.headers,
          reason,
          msg.info.deliveryCount,
          msg.seq,
          // one dead letter per rejected sample: named by its content, the same on every redelivery
          createHash('sha256').update(data).digest('base64url').slice(0, 16),
        ),
      );
    }
    let samplesOut = 0;
    for (const { subject, data, count } of r.out) {
      const id = `${inputId}:norm:${subject.slice('norm.v1.samples.'.length)}`;
      work.push(
        publishFabric(
          rt.publisher,
          subject,
          data,
          { type: EventTypes.SampleBatch, source: '/busway/normalizer', id },
          ctx,
        ),
      );
      samplesOut += count;
    }
    await Promise.all(work);
    // only now: a failed publish is tried again and judged again, and counted once it passes
    reporting.commit();
    for (const { reason } of r.rejected) {
      rt.metrics.deadLetters.inc({ stage: STAGE, reason: reason.code });
      rejected.add(reason.code);
    }
    rt.metrics.samples.inc({ stage: STAGE, direction: 'in' }, r.suppressed + r.rejected.length + samplesOut);
    rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, samplesOut);
    if (r.suppressed > 0) rt.metrics.samples.inc({ stage: STAGE, direction: 'suppressed' }, r.suppressed);
    return ACK;
  };

  const handleEvents = async (msg: JsMsg, inputId: string, ctx: Context): Promise<Outcome> => {
    const batch = busway.v1.EventBatch.decode(msg.data);
    const registry = registryClient.registry;
    const byKind = new Map<string, busway.v1.IEvent[]>();
    for (const e of batch.events) {
      const kind =
        e.kind === busway.v1.EventKind.EVENT_KIND_JOB
          ? 'job'
          : e.kind === busway.v1.EventKind.EVENT_KIND_GRID
            ? 'grid'
            : 'alarm';
      const list = byKind.get(kind) ?? [];
      list.push(kind === 'job' ? enrichJob(e, registry) : e);
      byKind.set(kind, list);
    }
    await Promise.all(
      [...byKind].map(([kind, events]) =>
        publishFabric(
          rt.publisher,
          Subjects.normEvents(kind),
          busway.v1.EventBatch.encode({ events }).finish(),
          { type: EventTypes.EventBatch, source: '/busway/normalizer', id: `${inputId}:norm:${token(kind)}` },
          ctx,
        ),
      ),
    );
    rt.metrics.samples.inc({ stage: STAGE, direction: 'in' }, batch.events.length);
    rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, batch.events.length);
    return ACK;
  };

  const handleMessage = async (msg: JsMsg, ctx: Context): Promise<Outcome> => {
    const env = readEnvelope(msg.headers);
    const inputId = env.id || `raw:${msg.seq}`;
    try {
      if (env.type === EventTypes.SampleBatch) return await handleSamples(msg, inputId, ctx);
      if (env.type === EventTypes.EventBatch) return await handleEvents(msg, inputId, ctx);
      return {
        kind: 'poison',
        code: 'contract-violation',
        message: `unknown ce-type '${env.type}' on ${msg.subject}`,
      };
    } catch (err) {
      if (err instanceof DecodeError) return { kind: 'poison', code: err.code, message: err.message };
      if (err instanceof Error && /index out of range|invalid wire type|illegal/i.test(err.message)) {
        return {
          kind: 'poison',
          code: 'decode-error',
          message: `${env.type} does not decode: ${err.message}`,
        };
      }
      throw err; // publish failures: the whole batch is retried (ids make the retry idempotent)
    }
  };

  const loop = await startConsumeLoop({
    stage: STAGE,
    worker: WORKER,
    js: rt.js,
    stream: Streams.Raw.name,
    durable: config.durable,
    config,
    metrics: rt.metrics,
    log: rt.log,
    termWithReason: rt.features().termWithReason,
    // NORM unavailable (a leader being elected): hold RAW's order, or the correlator reads what follows as late
    holdWhileUnavailable: true,
    handle: async (batch, ctx) => {
      const outcomes: Outcome[] = [];
      // a window of messages at a time: their output waits in memory for its PubAcks, so the window bounds it
      for (let i = 0; i < batch.length; i += config.publishWindow) {
        const window = batch.slice(i, i + config.publishWindow);
        outcomes.push(...(await Promise.all(window.map(async (msg) => handleMessage(msg, ctx)))));
      }
      return outcomes;
    },
  });

  return {
    async stop() {
      await loop.stop();
      rejected.close();
      await registryClient.close();
    },
  };
}
