import type { Context } from '@opentelemetry/api';
import type { JsMsg } from '@nats-io/jetstream';
import { Redis } from 'ioredis';
import { Counter, Gauge } from 'prom-client';
import { busway, EventTypes, Streams, Subjects } from '@busway/proto';
import { RegistryClient } from '@busway/registry';
import {
  ACK,
  decodeOrRefuse,
  publishFabric,
  Refused,
  readEnvelope,
  startConsumeLoop,
  type Outcome,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import { alarmEvent, alarmSubject } from './alarm-event.js';
import { Checkpointer } from './checkpoint.js';
import type { AnomalyConfig } from './config.js';
import { AnomalyEngine, type AlarmTransition } from './engine.js';
import { Label } from './detector.js';

const STAGE = 'anomaly';

/**
 * Scores every numeric sample of the ordered stream (one AnomalyBatch per input message on
 * anomaly.v1.<site>.<hall>.<row>.<rack>), raises and clears alarms on alarm.v1.<site>.<hall>.<row>.<rack>,
 * learns from job events and incidents what explains a change, and checkpoints detector state to Redis.
 */
export async function startAnomaly(rt: WorkerRuntime, config: AnomalyConfig): Promise<RunningWorker> {
  const registry = await RegistryClient.connect(config.redisUrl, config.site);
  rt.metrics.reportRegistryVersion(() => registry.registry.version);
  const engine = new AnomalyEngine(config, () => registry.registry);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, commandTimeout: 10_000 });
  redis.on('error', () => undefined); // surfaced by the checkpoint that fails
  const checkpoints = new Checkpointer(
    redis,
    config.checkpointKey ?? `busway:anomaly:v1:state:${config.durable}`,
    engine,
  );
  const loaded = await checkpoints.load();
  rt.log.info(loaded, 'detector state restored from the checkpoint');

  const reg = rt.metrics.registry;
  const seriesGauge = new Gauge({
    name: 'busway_anomaly_series',
    help: 'Series with detector state',
    registers: [reg],
  });
  const findings = new Counter({
    name: 'busway_anomaly_findings_total',
    help: 'Scored samples by label (normal and learning are not counted)',
    labelNames: ['label'],
    registers: [reg],
  });
  const alarms = new Counter({
    name: 'busway_anomaly_alarms_total',
    help: 'Alarms raised and cleared',
    labelNames: ['change'],
    registers: [reg],
  });
  const checkpointed = new Counter({
    name: 'busway_anomaly_checkpointed_series_total',
    help: 'Series states written to Redis',
    registers: [reg],
  });

  const scoreMessage = async (msg: JsMsg, ctx: Context): Promise<Outcome> => {
    const batch = decodeOrRefuse(msg, EventTypes.SampleBatch, (d) => busway.v1.SampleBatch.decode(d));
    if (batch instanceof Refused) return batch.outcome;
    const scores: busway.v1.IAnomalyScore[] = [];
    const raised: AlarmTransition[] = [];
    for (const s of batch.samples) {
      const r = engine.scoreSample(s);
      if (!r) continue;
      const finding = r.score.label !== Label.Normal && r.score.label !== Label.Learning;
      if (finding) findings.inc({ label: r.score.label ?? '' });
      if (finding || config.publishScores === 'all') scores.push(r.score);
      if (r.alarm) raised.push(r.alarm);
    }
    rt.metrics.samples.inc({ stage: STAGE, direction: 'in' }, batch.samples.length);
    const id = `${readEnvelope(msg.headers).id || `ordered:${msg.seq}`}:anomaly`;
    const work: Promise<unknown>[] = [];
    if (scores.length > 0) {
      const p = batch.samples[0]?.path ?? {};
      const subject = Subjects.anomaly(p.site ?? '_', p.hall ?? '_', p.row ?? '_', p.rack ?? '_');
      work.push(
        publishFabric(
          rt.publisher,
          subject,
          busway.v1.AnomalyBatch.encode({ scores }).finish(),
          { type: EventTypes.AnomalyBatch, source: '/busway/anomaly', id },
          ctx,
        ),
      );
    }
    for (const a of raised) {
      const event = alarmEvent(a);
      alarms.inc({ change: a.active ? 'raised' : 'cleared' });
      work.push(
        publishFabric(
          rt.publisher,
          alarmSubject(a.score.path),
          busway.v1.EventBatch.encode({ events: [event] }).finish(),
          { type: EventTypes.EventBatch, source: '/busway/anomaly', id: event.id ?? '' },
          ctx,
        ),
      );
    }
    await Promise.all(work);
    rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, scores.length);
    return ACK;
  };

  const contextMessage = (msg: JsMsg): Outcome => {
    const env = readEnvelope(msg.headers);
    if (env.type === EventTypes.EventBatch) {
      const b = decodeOrRefuse(msg, EventTypes.EventBatch, (d) => busway.v1.EventBatch.decode(d));
      if (b instanceof Refused) return b.outcome;
      for (const e of b.events) engine.onEvent(e);
      return ACK;
    }
    const inc = decodeOrRefuse(msg, EventTypes.Incident, (d) => busway.v1.Incident.decode(d));
    if (inc instanceof Refused) return inc.outcome;
    engine.onIncident(inc);
    return ACK;
  };

  const loop = (stream: string, durable: string, handle: (b: JsMsg[], c: Context) => Promise<Outcome[]>) =>
    startConsumeLoop({
      stage: STAGE,
      js: rt.js,
      stream,
      durable,
      config,
      metrics: rt.metrics,
      log: rt.log,
      termWithReason: rt.features().termWithReason,
      handle,
    });
  const context = async (batch: JsMsg[]) => batch.map(contextMessage);
  // explanations first, so a job that started before the backlog's samples is known when they are scored
  const loops = [
    await loop(Streams.Ordered.name, config.jobsDurable, context),
    await loop(Streams.Incidents.name, config.incidentsDurable, context),
    await loop(Streams.Ordered.name, config.durable, async (batch, ctx) => {
      const outcomes = await Promise.all(batch.map((m) => scoreMessage(m, ctx)));
      seriesGauge.set(engine.detector.size);
      return outcomes;
    }),
  ];

  let saving: Promise<void> = Promise.resolve();
  const save = () => {
    saving = saving.then(async () => {
      try {
        checkpointed.inc(await checkpoints.save());
      } catch (err) {
        rt.log.warn({ err }, 'checkpoint failed; the changed series are written next time');
      }
    });
    return saving;
  };
  const timer = setInterval(() => void save(), config.checkpointIntervalMs);
  timer.unref();

  return {
    async stop() {
      await Promise.all(loops.map((l) => l.stop()));
      clearInterval(timer);
      await save();
      redis.disconnect();
      await registry.close();
    },
  };
}
