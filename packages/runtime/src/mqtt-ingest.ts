import mqtt, { type MqttClient } from 'mqtt';
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { publishDeadLetter, type DeadLetterReason } from './dead-letter.js';
import { reasonOf } from './errors.js';
import type { Logger } from './logger.js';
import type { StageMetrics } from './metrics.js';

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
  handle: (topic: string, payload: Buffer) => Promise<void>,
): Promise<MqttClient> {
  const client = await mqtt.connectAsync(config.mqttUrl, {
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
  return client;
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
