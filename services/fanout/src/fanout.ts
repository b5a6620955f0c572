import type { Context } from '@opentelemetry/api';
import type { JsMsg } from '@nats-io/jetstream';
import { Redis, type ChainableCommander } from 'ioredis';
import { bigIntFromTimeNs, busway, EventTypes, rfc3339Nano, Streams, token, unsSubject } from '@busway/proto';
import {
  ACK,
  decodeOrRefuse,
  Refused,
  connectControlTier,
  fabricHeaders,
  injectTrace,
  PriorityGate,
  isUnavailable,
  QosTiers,
  startConsumeLoop,
  tierConsumerConfig,
  type ConsumeLoop,
  type ConsumerConfig,
  type Outcome,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import { alarmHandler } from './alarms.js';
import type { FanoutConfig } from './config.js';
import { execAll, transient } from './batch-results.js';
import { anomalyKey, lastValueKey, RedisKeys, SET_IF_NEWER_LUA } from './redis-keys.js';
import { decodeWireSample, SampleBatchScanner, type WireSample } from './sample-wire.js';
import { groupByPoint, groupsToStore, lastValueArgs, publishGroups } from './uns-writer.js';

const STAGE = 'fanout';
type LvPipeline = ChainableCommander & {
  buswaySetIfNewer(key: string, index: string, ...args: string[]): ChainableCommander;
};

/** Delivers ordered samples, incidents, anomaly scores and alarms to NATS subscribers and Redis. */
export async function startFanout(rt: WorkerRuntime, config: FanoutConfig): Promise<RunningWorker> {
  const redis = new Redis(config.redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: 5000,
  });
  redis.on('error', () => undefined); // surfaced per batch as a retry
  // without an offline queue the first batch would fail while the connection is still opening
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    redis.once('ready', () => (clearTimeout(timer), resolve()));
  });
  redis.defineCommand('buswaySetIfNewer', { numberOfKeys: 2, lua: SET_IF_NEWER_LUA });
  // QoS: incidents and alarms on a NATS and a Redis connection of their own, ahead of sample batches in this process
  const control = await connectControlTier(rt);
  const controlRedis = redis.duplicate();
  controlRedis.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    controlRedis.once('ready', () => (clearTimeout(timer), resolve()));
  });
  const gate = new PriorityGate();
  const alarms = alarmHandler({
    redis: controlRedis,
    nc: control.nc,
    clearedAlarmTtlMs: config.clearedAlarmTtlMs,
    log: rt.log.child({ consumer: 'fanout-alarms' }),
  });

  const scanner = new SampleBatchScanner();
  const samples = async (batch: JsMsg[], ctx: Context): Promise<Outcome[]> => {
    const outcomes: Outcome[] = [];
    const decoded: WireSample[][] = [];
    // delivered again (this worker died or its ack was lost before): stored or not, never judged by Redis
    const redelivered: WireSample[][] = [];
    const counts = { in: 0, 'no-subject': 0, stale: 0, out: 0 };
    for (const msg of batch) {
      const d = decodeOrRefuse(msg, EventTypes.SampleBatch, (data) => scanner.scan(data));
      if (d instanceof Refused) {
        outcomes.push(d.outcome);
        continue;
      }
      (msg.info.redelivered ? redelivered : decoded).push(d.samples);
      outcomes.push(ACK);
      counts.in += d.samples.length + d.withoutSubject;
      counts['no-subject'] += d.withoutSubject;
    }
    // counted once the batch has passed: a batch held and tried again is counted once
    const count = () => {
      for (const [direction, n] of Object.entries(counts))
        if (n > 0) rt.metrics.samples.inc({ stage: STAGE, direction }, n);
    };
    const grouped = groupByPoint(decoded);
    const again = groupByPoint(redelivered);
    if (grouped.length === 0 && again.length === 0) {
      count();
      return outcomes;
    }
    try {
      // the last values stored before this batch: what is not newer is in UNS already
      const stored = await execAll(
        redis.pipeline(grouped.map((g) => ['hget', lastValueKey(g.subject), 'timeNs'])),
      );
      const { groups, stale } = groupsToStore(
        grouped,
        stored.map((t) => (typeof t === 'string' ? BigInt(t) : undefined)),
        again,
      );
      counts.stale = stale;
      // UNS first, the last values after: a batch retried after a failure is still newer than Redis
      await publishGroups(rt.publisher, groups, ctx, config.maxPendingPublishes);
      if (groups.length > 0) {
        const pipe = redis.pipeline() as LvPipeline;
        for (const g of groups) {
          const newest = decodeWireSample(g.samples[g.samples.length - 1] as WireSample);
          pipe.buswaySetIfNewer(lastValueKey(g.subject), RedisKeys.lastValueIndex, ...lastValueArgs(newest));
        }
        await execAll(pipe);
      }
      counts.out = groups.reduce((n, g) => n + g.samples.length, 0);
    } catch (err) {
      // UNS electing a leader: the loop holds the batch, or newer samples would reach UNS before it
      if (isUnavailable(err)) throw err;
      return batch.map(() => transient(err, 'uns-or-redis'));
    }
    count();
    return outcomes; // acked only now: stream UNS holds every sample (PubAck) and Redis the last values
  };

  const incidents = async (batch: JsMsg[], ctx: Context): Promise<Outcome[]> => {
    const outcomes: Outcome[] = [];
    const pipe = controlRedis.pipeline();
    for (const msg of batch) {
      const inc = decodeOrRefuse(msg, EventTypes.Incident, (d) => busway.v1.Incident.decode(d));
      // an Incident has a `kind` field of its own: never test the decoded message for an outcome's shape
      if (inc instanceof Refused) {
        outcomes.push(inc.outcome);
        continue;
      }
      const json = {
        ...busway.v1.Incident.toObject(inc, { longs: String, enums: String }),
        start: rfc3339Nano(inc.startNs),
        end: rfc3339Nano(inc.endNs),
      };
      pipe.lpush(RedisKeys.incidents, JSON.stringify(json));
      const h = fabricHeaders({ type: EventTypes.Incident, source: '/busway/fanout', id: inc.id });
      injectTrace(h, ctx);
      control.nc.publish(
        `events.v1.incident.${token(inc.path?.site ?? config.site)}.${token(inc.kind)}`,
        msg.data,
        { headers: h },
      );
      outcomes.push(ACK);
    }
    pipe.ltrim(RedisKeys.incidents, 0, config.maxIncidents - 1);
    try {
      await execAll(pipe);
      await control.nc.flush();
    } catch (err) {
      return batch.map(() => transient(err));
    }
    return outcomes;
  };

  // scores are indexed for the API; alarms come from the anomaly worker itself (stream ALARMS)
  const anomalies = async (batch: JsMsg[]): Promise<Outcome[]> => {
    const outcomes: Outcome[] = [];
    // each point's hash holds its newest score: a batch writes that one only, however many it carries
    const newest = new Map<string, busway.v1.IAnomalyScore>();
    for (const msg of batch) {
      const decoded = decodeOrRefuse(msg, EventTypes.AnomalyBatch, (d) => busway.v1.AnomalyBatch.decode(d));
      if (decoded instanceof Refused) {
        outcomes.push(decoded.outcome);
        continue;
      }
      for (const s of decoded.scores) {
        if (!s.path || !s.metric) continue;
        const key = anomalyKey(unsSubject(s.path, s.metric));
        const held = newest.get(key);
        if (!held || bigIntFromTimeNs(s.eventTimeNs) >= bigIntFromTimeNs(held.eventTimeNs))
          newest.set(key, s);
      }
      outcomes.push(ACK);
    }
    if (newest.size === 0) return outcomes;
    const pipe = redis.pipeline();
    for (const [key, s] of newest)
      pipe.hset(key, {
        score: String(s.score),
        label: s.label,
        reason: s.reason,
        time: rfc3339Nano(s.eventTimeNs),
      });
    pipe.sadd(RedisKeys.anomalyIndex, ...newest.keys()); // lets readers find scores by pattern without SCAN
    try {
      await execAll(pipe);
    } catch (err) {
      return batch.map(() => transient(err));
    }
    return outcomes;
  };

  const loop = (
    stream: string,
    durable: string,
    handle: (b: JsMsg[], c: Context) => Promise<Outcome[]>,
    js = rt.js,
    consumer: ConsumerConfig = config,
    holdWhileUnavailable = false,
  ): Promise<ConsumeLoop> =>
    startConsumeLoop({
      stage: 'fanout',
      js,
      stream,
      durable,
      config: consumer,
      metrics: rt.metrics,
      log: rt.log,
      termWithReason: rt.features().termWithReason,
      holdWhileUnavailable,
      handle,
    });
  const loops = [
    await loop(
      Streams.Ordered.name,
      'fanout-samples',
      async (b, c) => {
        await gate.analyticsTurn();
        return samples(b, c);
      },
      rt.js,
      config,
      true, // the samples handler may be tried again: same groups, same message ids, last values written after
    ),
    await loop(
      Streams.Incidents.name,
      'fanout-incidents',
      (b, c) => gate.control(() => incidents(b, c)),
      control.js,
      tierConsumerConfig(config, QosTiers.Control),
    ),
    await loop(Streams.Anomalies.name, 'fanout-anomalies', anomalies),
    await loop(
      Streams.Alarms.name,
      'fanout-alarms',
      (b, c) => gate.control(() => alarms.handle(b, c)),
      control.js,
      tierConsumerConfig(config, QosTiers.Control),
    ),
  ];
  return {
    async stop() {
      await Promise.all(loops.map((l) => l.stop()));
      alarms.close();
      await control.close();
      redis.disconnect();
      controlRedis.disconnect();
    },
  };
}
