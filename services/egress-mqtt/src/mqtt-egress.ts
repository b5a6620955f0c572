import { createHash } from 'node:crypto';
import type { JsMsg } from '@nats-io/jetstream';
import mqtt, { type MqttClient } from 'mqtt';
import { Counter } from 'prom-client';
import type { Logger } from 'pino';
import {
  ACK,
  connectControlTier,
  consumerSpecOf,
  HOLD,
  PriorityGate,
  QosTiers,
  reasonOf,
  startConsumeLoop,
  streamOfSubject,
  tierConsumerConfig,
  tierOfStream,
  withTimeout,
  type ConsumeLoop,
  type ConsumerConfig,
  type ConsumerSpec,
  type Outcome,
  type QosTier,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import type { EgressMqttConfig, MappingConfig } from './config.js';
import { HeldMessages } from './held.js';
import { TopicMapper } from './mapping.js';

export const WORKER = 'egress-mqtt';

/** One mapping's share of one subject: a durable consumer of its own, on its tier's limits. */
export interface MqttLane {
  mapping: MappingConfig;
  subject: string;
  stream: string;
  tier: QosTier;
  durable: string;
  consumer: ConsumerConfig;
}

export function durableOf(mapping: string, subject: string): string {
  return `egress-mqtt-${mapping}-${createHash('sha256').update(subject).digest('hex').slice(0, 10)}`;
}

export function lanesOf(config: EgressMqttConfig): MqttLane[] {
  return config.mappings.flatMap((mapping) =>
    mapping.subjects.map((subject) => {
      const stream = streamOfSubject(subject) as string; // the config schema refused any other
      const tier = tierOfStream(stream);
      return {
        mapping,
        subject,
        stream,
        tier,
        durable: durableOf(mapping.name, subject),
        consumer: tierConsumerConfig(config, tier),
      };
    }),
  );
}

export function consumerSpecsOf(config: EgressMqttConfig): ConsumerSpec[] {
  return lanesOf(config).map((l) => consumerSpecOf(l.stream, l.durable, l.subject, l.consumer));
}

/** One broker connection per tier: control publishes never wait behind the analytics PUBACKs. */
function connectBroker(config: EgressMqttConfig, tier: QosTier, log: Logger): MqttClient {
  const client = mqtt.connect(config.mqttUrl, {
    clientId: `${config.mqttClientId}-${tier}`,
    protocolVersion: config.mqttProtocolVersion,
    username: config.mqttUsername,
    password: config.mqttPassword,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    queueQoSZero: false,
  });
  let up = false;
  client.on('connect', () => {
    up = true;
    log.info({ tier, broker: config.mqttUrl }, 'connected to the broker');
  });
  client.on('offline', () => {
    if (up) log.warn({ tier }, 'broker connection lost; retrying');
    up = false;
  });
  client.on('error', (err) => log.debug({ tier, err: err.message }, 'broker error'));
  return client;
}

/**
 * Republishes fabric messages to an MQTT broker by declarative mappings. A JetStream message is acked once
 * the broker holds every publication it became (QoS 1: the PUBACK); while the broker is away nothing is
 * acked and the messages come again.
 */
export async function startEgressMqtt(rt: WorkerRuntime, config: EgressMqttConfig): Promise<RunningWorker> {
  const published = new Counter({
    name: 'busway_mqtt_publications_total',
    help: 'MQTT publications by mapping and outcome (published, not-mapped, failed)',
    labelNames: ['mapping', 'outcome'],
    registers: [rt.metrics.registry],
  });
  const lanes = lanesOf(config);
  const gate = new PriorityGate(config.priorityWaitMs);
  const tiers = new Set(lanes.map((l) => l.tier));
  const brokers = new Map([...tiers].map((t) => [t, connectBroker(config, t, rt.log)]));
  const control = tiers.has(QosTiers.Control) ? await connectControlTier(rt) : undefined;
  // like fan-out with Redis: wait (5 s at most) for the broker, so the first batches are not refused needlessly
  await Promise.all(
    [...brokers.values()].map(
      (c) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          c.once('connect', () => (clearTimeout(timer), resolve()));
        }),
    ),
  );

  /** Maps one message and publishes what it became: its outcome once the broker has every PUBACK. */
  const publishOne = (
    lane: MqttLane,
    mapper: TopicMapper,
    client: MqttClient,
    msg: JsMsg,
  ): Outcome | Promise<Outcome> => {
    const { qos, retain, name } = lane.mapping;
    let mapped;
    try {
      mapped = mapper.map(msg.subject, msg.data, msg.headers, msg.seq);
    } catch (err) {
      return { kind: 'poison', ...reasonOf(err) };
    }
    if (mapped.notMapped > 0) published.inc({ mapping: name, outcome: 'not-mapped' }, mapped.notMapped);
    const count = mapped.publications.length;
    return withTimeout(
      Promise.all(mapped.publications.map((p) => client.publishAsync(p.topic, p.payload, { qos, retain }))),
      config.publishTimeoutMs,
      'PUBACK',
    ).then(
      (): Outcome => {
        published.inc({ mapping: name, outcome: 'published' }, count);
        return ACK;
      },
      (err: unknown): Outcome => {
        published.inc({ mapping: name, outcome: 'failed' }, count);
        return { kind: 'retry', code: 'publish-failed', message: reasonOf(err).message };
      },
    );
  };

  /**
   * Publishes a batch. Control lanes wait for every PUBACK of the batch (few messages, the priority gate held
   * meanwhile). Analytics lanes hand their messages back as HOLD and settle each on its PUBACK, so the next
   * batch is published while this one's acknowledgements travel: a batch-by-batch round trip costs a whole
   * delayed-ACK timeout (about 40 ms) on a broker with Nagle's algorithm on (Mosquitto's default).
   */
  const deliver = async (
    lane: MqttLane,
    mapper: TopicMapper,
    batch: JsMsg[],
    held?: HeldMessages,
  ): Promise<Outcome[]> => {
    const client = brokers.get(lane.tier) as MqttClient;
    if (!client.connected)
      return batch.map(() => ({
        kind: 'retry',
        code: 'broker-unavailable',
        message: `not connected to ${config.mqttUrl}`,
      }));
    const outcomes = batch.map((msg) => publishOne(lane, mapper, client, msg));
    if (!held) return Promise.all(outcomes);
    return outcomes.map((o, i) => {
      if (!(o instanceof Promise)) return o;
      held.hold(batch[i] as JsMsg, o);
      return HOLD;
    });
  };

  const loops: ConsumeLoop[] = [];
  const holders: HeldMessages[] = [];
  for (const lane of lanes) {
    const mapper = new TopicMapper(lane.mapping);
    const isControl = lane.tier === QosTiers.Control;
    const log = rt.log.child({ mapping: lane.mapping.name, tier: lane.tier });
    const held = isControl
      ? undefined
      : new HeldMessages({
          js: rt.js,
          worker: WORKER,
          stage: 'egress',
          consumer: lane.consumer,
          metrics: rt.metrics,
          termWithReason: rt.features().termWithReason,
          log,
        });
    if (held) holders.push(held);
    loops.push(
      await startConsumeLoop({
        stage: 'egress',
        worker: WORKER,
        js: isControl && control ? control.js : rt.js,
        termWithReason: rt.features().termWithReason,
        stream: lane.stream,
        durable: lane.durable,
        config: lane.consumer,
        metrics: rt.metrics,
        log,
        handle: async (batch) => {
          if (isControl) return gate.control(() => deliver(lane, mapper, batch));
          await gate.analyticsTurn();
          return deliver(lane, mapper, batch, held);
        },
      }),
    );
  }
  rt.log.info(
    { lanes: lanes.map((l) => `${l.mapping.name}:${l.subject}:${l.tier}`) },
    'MQTT egress consuming',
  );
  return {
    async stop() {
      await Promise.all(loops.map((l) => l.stop()));
      // what is in flight settles (PUBACK or publishTimeoutMs) before the broker connections close
      await Promise.all(holders.map((h) => h.drain()));
      await Promise.all([...brokers.values()].map((c) => c.endAsync().catch(() => undefined)));
      await control?.close();
    },
  };
}
