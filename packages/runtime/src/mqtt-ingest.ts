import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { JetStreamClient } from '@nats-io/jetstream';
import { createHash } from 'node:crypto';
import { headers } from '@nats-io/transport-node';
import { EventTypes, Subjects } from '@busway/proto';
import { fabricHeaders } from './headers.js';
import { publishDeadLetter, type DeadLetterReason } from './dead-letter.js';
import { reasonOf } from './errors.js';
import type { Logger } from './logger.js';
import type { StageMetrics } from './metrics.js';

/**
 * Keeps an MQTT message exactly as it arrived on the AUDIT stream (short retention) before it is read: what a
 * source really sent can be audited, and replayed through a fixed bridge. Its id is the topic and the payload's
 * hash, so a broker redelivery is stored once.
 */
export async function auditMqtt(
  js: JetStreamClient,
  protocol: string,
  topic: string,
  payload: Uint8Array,
): Promise<void> {
  const source = topic.split('/').slice(0, 4).join('-'); // e.g. spBv1.0-<group>-<type>-<edge>
  const id = `${topic}#${createHash('sha256').update(payload).digest('base64url').slice(0, 22)}`;
  const h = fabricHeaders({
    type: EventTypes.Original,
    source: `/mqtt/${protocol}`,
    id,
    contentType: 'application/octet-stream',
  });
  h.set('mqtt-topic', topic);
  await js.publish(Subjects.audit(protocol, source), payload, { headers: h, msgID: id });
}

/** The MQTT keys every ingest bridge's config has. */
export interface MqttIngestConfig {
  mqttUrl: string;
  /** Stable, so the broker keeps the session (subscriptions, unacked messages) while the bridge restarts. */
  mqttClientId: string;
  /** MQTT 5 receive maximum: messages in flight to the bridge, its memory bound. */
  receiveMaximum: number;
}

/**
 * An MQTT 5 session for an ingest bridge whose PUBACK goes out only after `handle` resolves (the JetStream
 * PubAck), so a message is acknowledged to the broker only once the fabric holds it: at-least-once end to end.
 */
export async function connectMqttIngest(
  config: MqttIngestConfig,
  log: Logger,
  /** Hands one message to JetStream; resolves once it is stored, rejects when it could not be. */
  process: (topic: string, payload: Buffer) => Promise<void>,
  options: {
    /** Keep every message on the AUDIT stream, in parallel with reading it: both must land before the ack. */
    audit?: { js: JetStreamClient; protocol: string };
    /** More client options, e.g. a will. */
    client?: Partial<IClientOptions>;
  } = {},
): Promise<MqttClient> {
  const audit = options.audit;
  const handle = audit
    ? async (topic: string, payload: Buffer) => {
        const audited = auditMqtt(audit.js, audit.protocol, topic, payload);
        try {
          await process(topic, payload);
        } finally {
          await audited;
        }
      }
    : process;
  const client = await mqtt.connectAsync(config.mqttUrl, {
    ...options.client,
    clientId: config.mqttClientId,
    clean: false, // the broker keeps our subscription and unacked messages while we restart
    protocolVersion: 5,
    properties: { receiveMaximum: config.receiveMaximum, sessionExpiryInterval: 3600 },
    reconnectPeriod: 1000,
    customHandleAcks: (topic, message, _packet, done) => {
      handle(topic, message).then(
        () => done(0),
        (err: unknown) => {
          // JetStream unreachable: withhold the PUBACK; the broker redelivers on reconnect
          log.error({ err, topic }, 'could not hand the message to JetStream; not acknowledging');
          done(0x80);
        },
      );
    },
  });
  client.on('error', (err) => log.warn({ err: err.message }, 'MQTT error'));
  handleQos0(client, config.receiveMaximum, log, handle);
  return client;
}

/**
 * QoS 0 messages (Sparkplug NBIRTH/NDATA are QoS 0 by the specification) never reach customHandleAcks: they are
 * handled here, one at a time in arrival order. There is no PUBACK to withhold, so backpressure is the socket:
 * past `limit` messages waiting, reading from the broker pauses until half of them are done.
 */
function handleQos0(
  client: MqttClient,
  limit: number,
  log: Logger,
  handle: (topic: string, payload: Buffer) => Promise<void>,
): void {
  let waiting = 0;
  let chain = Promise.resolve();
  client.on('message', (topic, message, packet) => {
    if (packet.qos !== 0) return;
    waiting++;
    if (waiting >= limit) client.stream.pause();
    chain = chain
      .then(() => handle(topic, message))
      .catch((err: unknown) =>
        log.error({ err, topic }, 'QoS 0 message could not be handed to JetStream; it is lost'),
      )
      .finally(() => {
        waiting--;
        if (waiting <= limit / 2 && client.stream.isPaused()) client.stream.resume();
      });
  });
}

/**
 * Dead-letters one MQTT message that can never be read: the payload as it came, its topic in `mqtt-topic`, the
 * reason in the busway-dlq-* headers, counted by reason. Returns the reason for the caller's log summary.
 */
export async function deadLetterMqtt(
  rt: { js: JetStreamClient; metrics: StageMetrics },
  worker: string,
  stage: string,
  topic: string,
  payload: Uint8Array,
  err: unknown,
): Promise<DeadLetterReason> {
  const reason = reasonOf(err);
  const h = headers();
  h.set('mqtt-topic', topic);
  await publishDeadLetter(rt.js, worker, `mqtt:${topic}`, payload, h, reason);
  rt.metrics.deadLetters.inc({ stage, reason: reason.code });
  return reason;
}
