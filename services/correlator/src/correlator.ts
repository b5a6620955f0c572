import { createHash } from 'node:crypto';
import { context, type Context } from '@opentelemetry/api';
import type { JsMsg } from '@nats-io/jetstream';
import { Counter, Gauge } from 'prom-client';
import { busway, EventTypes, msFromTimeNs, Streams, Subjects } from '@busway/proto';
import { RegistryClient } from '@busway/registry';
import {
  HOLD,
  LogSummary,
  publishFabric,
  readEnvelope,
  startConsumeLoop,
  type Outcome,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import type { CorrelatorConfig } from './config.js';
import { CorrelationEngine } from './correlation.js';
import { OrderBuffer } from './order-buffer.js';

const STAGE = 'correlate';
const WORKER = 'correlator';

/** An input message held until every item it carried has been emitted. */
interface Held {
  msg: JsMsg;
  remaining: number;
  heldSinceMs: number;
}

type Item =
  | { kind: 'sample'; sample: busway.v1.ISample; held: Held }
  | { kind: 'event'; event: busway.v1.IEvent; held: Held };

function sampleKey(s: busway.v1.ISample): string {
  return `${s.pointId}|${s.sequence?.toString() ?? ''}|${s.eventTimeNs?.toString() ?? ''}`;
}

function rackSubject(prefix: 'ordered' | 'late', p: busway.v1.IUnsPath | null | undefined): string {
  const tail = `${p?.site ?? '_'}.${p?.hall ?? '_'}.${p?.row ?? '_'}.${p?.rack ?? '_'}`;
  return prefix === 'late'
    ? `ordered.v1.late.${tail}`
    : Subjects.orderedSamples(p?.site ?? '_', p?.hall ?? '_', p?.row ?? '_', p?.rack ?? '_');
}

/**
 * Consumes NORM, re-emits samples and events in event-time order on ORDERED (late ones on ordered.v1.late.*),
 * and correlates them into incidents. Input messages are held (not acked) until all their items are emitted
 * and stored, so a crash loses nothing: the unacked input comes back.
 */
export async function startCorrelator(rt: WorkerRuntime, config: CorrelatorConfig): Promise<RunningWorker> {
  const registry = await RegistryClient.connect(config.redisUrl, config.site);
  const buffer = new OrderBuffer<Item>(config);
  const engine = new CorrelationEngine(config, () => registry.registry, config.site);
  const reg = rt.metrics.registry;
  const watermarkLag = new Gauge({
    name: 'busway_watermark_lag_seconds',
    help: 'Wall clock minus the emitted watermark',
    registers: [reg],
  });
  const buffered = new Gauge({
    name: 'busway_reorder_buffer_size',
    help: 'Samples and events waiting for the watermark',
    registers: [reg],
  });
  const late = new Counter({
    name: 'busway_late_samples_total',
    help: 'Samples older than emitted output, sent to ordered.v1.late.*',
    registers: [reg],
  });
  const duplicates = new Counter({
    name: 'busway_duplicate_samples_total',
    help: 'Repeated samples dropped',
    registers: [reg],
  });
  const incidents = new Counter({
    name: 'busway_incidents_total',
    help: 'Incidents emitted, by kind',
    labelNames: ['kind'],
    registers: [reg],
  });
  const lateLog = new LogSummary(rt.log, 'late samples re-emitted on ordered.v1.late:');

  const release = (held: Held) => {
    if (--held.remaining === 0) held.msg.ack();
  };

  const publishSamples = async (byRack: Map<string, busway.v1.ISample[]>, ctx: Context) => {
    await Promise.all(
      [...byRack].map(([subject, samples]) => {
        const digest = createHash('sha1');
        for (const s of samples) digest.update(sampleKey(s));
        const id = `ord:${subject}:${digest.digest('hex')}`;
        rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, samples.length);
        return publishFabric(
          rt.js,
          subject,
          busway.v1.SampleBatch.encode({ samples }).finish(),
          { type: EventTypes.SampleBatch, source: '/busway/correlator', id },
          ctx,
        );
      }),
    );
  };

  const emit = async (items: { item: Item; timeMs: number }[], ctx: Context) => {
    if (items.length === 0) return;
    const byRack = new Map<string, busway.v1.ISample[]>();
    const events: busway.v1.IEvent[] = [];
    const found: busway.v1.IIncident[] = [];
    for (const { item, timeMs } of items) {
      if (item.kind === 'sample') {
        const subject = rackSubject('ordered', item.sample.path);
        byRack.set(subject, [...(byRack.get(subject) ?? []), item.sample]);
        found.push(...engine.onSample(item.sample, timeMs));
      } else {
        events.push(item.event);
        engine.onEvent(item.event, timeMs);
      }
    }
    found.push(...engine.advance(buffer.emittedWatermarkMs));
    const work: Promise<unknown>[] = [publishSamples(byRack, ctx)];
    if (events.length > 0) {
      const id = `ord:events:${events.map((e) => e.id).join(',')}`;
      work.push(
        publishFabric(
          rt.js,
          Subjects.orderedEvents('job'),
          busway.v1.EventBatch.encode({ events }).finish(),
          { type: EventTypes.EventBatch, source: '/busway/correlator', id },
          ctx,
        ),
      );
    }
    for (const inc of found) {
      incidents.inc({ kind: inc.kind ?? 'unknown' });
      work.push(
        publishFabric(
          rt.js,
          Subjects.incident(config.site, inc.kind ?? 'unknown'),
          busway.v1.Incident.encode(inc).finish(),
          { type: EventTypes.Incident, source: '/busway/correlator', id: inc.id ?? '' },
          ctx,
        ),
      );
    }
    await Promise.all(work);
    for (const { item } of items) release(item.held);
  };

  // one flush at a time: the handler and the timer both emit
  let flushing: Promise<void> = Promise.resolve();
  const flush = (all = false, ctx: Context = context.active()) => {
    flushing = flushing.then(async () => {
      await emit(all ? buffer.drainAll() : buffer.drain(Date.now()), ctx);
      buffered.set(buffer.size);
      if (Number.isFinite(buffer.emittedWatermarkMs))
        watermarkLag.set((Date.now() - buffer.emittedWatermarkMs) / 1000);
    });
    return flushing;
  };

  const handleLate = async (held: Held, s: busway.v1.ISample, ctx: Context) => {
    late.inc();
    lateLog.add(s.path?.rack ?? '_');
    const subject = rackSubject('late', s.path);
    await publishFabric(
      rt.js,
      subject,
      busway.v1.SampleBatch.encode({ samples: [s] }).finish(),
      { type: EventTypes.SampleBatch, source: '/busway/correlator', id: `late:${sampleKey(s)}` },
      ctx,
    );
    release(held);
  };

  const ingest = async (msg: JsMsg, ctx: Context): Promise<Outcome> => {
    const env = readEnvelope(msg.headers);
    const now = Date.now();
    const held: Held = { msg, remaining: 1, heldSinceMs: now };
    const lates: Promise<void>[] = [];
    if (env.type === EventTypes.SampleBatch) {
      const batch = busway.v1.SampleBatch.decode(msg.data);
      rt.metrics.samples.inc({ stage: STAGE, direction: 'in' }, batch.samples.length);
      for (const sample of batch.samples) {
        held.remaining++;
        const r = buffer.push(
          { kind: 'sample', sample, held },
          msFromTimeNs(sample.eventTimeNs),
          sampleKey(sample),
          now,
        );
        if (r === 'duplicate') {
          duplicates.inc();
          release(held);
        } else if (r === 'late') lates.push(handleLate(held, sample, ctx));
      }
    } else if (env.type === EventTypes.EventBatch) {
      const batch = busway.v1.EventBatch.decode(msg.data);
      rt.metrics.samples.inc({ stage: STAGE, direction: 'in' }, batch.events.length);
      for (const event of batch.events) {
        held.remaining++;
        const r = buffer.push(
          { kind: 'event', event, held },
          msFromTimeNs(event.eventTimeNs),
          `event|${event.id}`,
          now,
        );
        if (r !== 'buffered') release(held); // a late or repeated event is still acked; the correlation has moved on
      }
    } else {
      return {
        kind: 'poison',
        code: 'contract-violation',
        message: `unknown ce-type '${env.type}' on ${msg.subject}`,
      };
    }
    await Promise.all(lates);
    release(held); // the message's own reference: acked now if nothing of it is buffered
    return HOLD;
  };

  const loop = await startConsumeLoop({
    stage: STAGE,
    worker: WORKER,
    js: rt.js,
    stream: Streams.Norm.name,
    durable: config.durable,
    config,
    metrics: rt.metrics,
    log: rt.log,
    termWithReason: rt.features().termWithReason,
    handle: async (batch, ctx) => {
      const outcomes = await Promise.all(
        batch.map((msg) =>
          ingest(msg, ctx).catch((err: unknown): Outcome => {
            if (err instanceof Error && /index out of range|invalid wire type|illegal/i.test(err.message)) {
              return { kind: 'poison', code: 'decode-error', message: err.message };
            }
            throw err;
          }),
        ),
      );
      await flush(false, ctx);
      return outcomes;
    },
  });

  const timer = setInterval(() => {
    flush().catch((err: unknown) => rt.log.error({ err }, 'flush failed; retrying on the next tick'));
  }, config.flushIntervalMs);

  return {
    async stop() {
      await loop.stop();
      clearInterval(timer);
      await flush(true).catch((err: unknown) =>
        rt.log.error({ err }, 'final flush failed; held messages will be redelivered'),
      );
      lateLog.close();
      await registry.close();
    },
  };
}
