import type { Context } from '@opentelemetry/api';
import type { JsMsg } from '@nats-io/jetstream';
import { Gauge } from 'prom-client';
import { busway, EventTypes, Streams, Subjects } from '@busway/proto';
import {
  ACK,
  publishFabric,
  readEnvelope,
  startConsumeLoop,
  type Outcome,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import type { AnomalyConfig } from './config.js';
import { Detector } from './detector.js';

const STAGE = 'anomaly';

/** Scores every numeric sample of the ordered stream; one AnomalyBatch per input message. */
export async function startAnomaly(rt: WorkerRuntime, config: AnomalyConfig): Promise<RunningWorker> {
  const detector = new Detector(config);
  const seriesGauge = new Gauge({
    name: 'busway_anomaly_series',
    help: 'Series with detector state',
    registers: [rt.metrics.registry],
  });

  const scoreMessage = async (msg: JsMsg, ctx: Context): Promise<Outcome> => {
    const env = readEnvelope(msg.headers);
    if (env.type !== EventTypes.SampleBatch)
      return {
        kind: 'poison',
        code: 'contract-violation',
        message: `expected ${EventTypes.SampleBatch}, got '${env.type}'`,
      };
    let batch: busway.v1.SampleBatch;
    try {
      batch = busway.v1.SampleBatch.decode(msg.data);
    } catch (err) {
      return { kind: 'poison', code: 'decode-error', message: (err as Error).message };
    }
    const scores: busway.v1.IAnomalyScore[] = [];
    for (const s of batch.samples) {
      const x = s.doubleValue ?? (s.intValue != null ? Number(s.intValue.toString()) : undefined);
      if (x === undefined || !Number.isFinite(x)) continue; // booleans and strings are not scored here
      const r = detector.score(s.pointId ?? '', x);
      scores.push({ pointId: s.pointId, path: s.path, metric: s.metric, eventTimeNs: s.eventTimeNs, ...r });
    }
    rt.metrics.samples.inc({ stage: STAGE, direction: 'in' }, batch.samples.length);
    if (scores.length > 0) {
      const p = batch.samples[0]?.path ?? {};
      const subject = Subjects.anomaly(p.site ?? '_', p.hall ?? '_', p.row ?? '_', p.rack ?? '_');
      const id = `${env.id || `ordered:${msg.seq}`}:anomaly`;
      await publishScores(rt, subject, scores, id, ctx);
      rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, scores.length);
    }
    return ACK;
  };

  const loop = await startConsumeLoop({
    stage: 'anomaly',
    js: rt.js,
    stream: Streams.Ordered.name,
    durable: config.durable,
    config,
    metrics: rt.metrics,
    log: rt.log,
    termWithReason: rt.features().termWithReason,
    handle: async (batch, ctx) => {
      const outcomes = await Promise.all(batch.map((m) => scoreMessage(m, ctx)));
      seriesGauge.set(detector.size);
      return outcomes;
    },
  });
  return { stop: () => loop.stop() };
}

async function publishScores(
  rt: WorkerRuntime,
  subject: string,
  scores: busway.v1.IAnomalyScore[],
  id: string,
  ctx: Context,
): Promise<void> {
  await publishFabric(
    rt.js,
    subject,
    busway.v1.AnomalyBatch.encode({ scores }).finish(),
    { type: EventTypes.AnomalyBatch, source: '/busway/anomaly', id },
    ctx,
  );
}
