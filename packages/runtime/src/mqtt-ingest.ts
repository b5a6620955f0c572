import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { JetStreamPublisher } from './pub-acks.js';
import { createHash } from 'node:crypto';
import { headers } from '@nats-io/transport-node';
import { EventTypes, Subjects } from '@busway/proto';
import { fabricHeaders, Hdr } from './headers.js';
import { publishDeadLetter, type DeadLetterReason } from './dead-letter.js';
import { reasonOf } from './errors.js';
import { LogSummary, type Logger } from './logger.js';
import type { StageMetrics } from './metrics.js';
import { OrderedAcks } from './ordered-acks.js';
import { traceMqttMessage } from './source-trace.js';

/** An MQTT message has no identity of its own across sessions: its topic and a hash of its payload are it. */
export function mqttMessageId(topic: string, payload: Uint8Array): string {
  return `${topic}#${createHash('sha256').update(payload).digest('base64url').slice(0, 22)}`;
}

/**
 * Keeps an MQTT message exactly as it arrived on the AUDIT stream (short retention) before it is read: what a
 * source really sent can be audited, and replayed through a fixed bridge. Its id is the topic and the payload's
 * hash, so a broker redelivery is stored once.
 */
export async function auditMqtt(
  js: JetStreamPublisher,
  protocol: string,
  topic: string,
  payload: Uint8Array,
): Promise<void> {
  const source = topic.split('/').slice(0, 4).join('-'); // e.g. spBv1.0-<group>-<type>-<edge>
  const id = mqttMessageId(topic, payload);
  const h = fabricHeaders({
    type: EventTypes.Original,
    source: `/mqtt/${protocol}`,
    id,
    contentType: 'application/octet-stream',
  });
  h.append(Hdr.MqttTopic, topic);
  await js.publish(Subjects.audit(protocol, source), payload, { headers: h }); // Nats-Msg-Id is in h
}

/** The MQTT keys every ingest bridge's config has. */
export interface MqttIngestConfig {
  mqttUrl: string;
  /** Stable, so the broker keeps the session (subscriptions, unacked messages) while the bridge restarts. */
  mqttClientId: string;
  /** MQTT 5 receive maximum: messages in flight to the bridge, its memory bound. */
  receiveMaximum: number;
  /** Bytes the bridge may hold unacknowledged by JetStream before it stops reading from the broker. @default 8 MiB */
  maxBufferBytes?: number;
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
    audit?: { js: JetStreamPublisher; protocol: string };
    /** Where the buffer's fill and its pauses are counted. */
    metrics?: StageMetrics;
    /** More client options, e.g. a will. */
    client?: Partial<IClientOptions>;
  } = {},
): Promise<MqttClient> {
  const audit = options.audit;
  const read = audit
    ? async (topic: string, payload: Buffer) => {
        // both settle before the ack; allSettled handles both rejections, so neither goes unhandled
        const [audited, processed] = await Promise.allSettled([
          auditMqtt(audit.js, audit.protocol, topic, payload),
          process(topic, payload),
        ]);
        if (processed.status === 'rejected') throw processed.reason;
        if (audited.status === 'rejected') throw audited.reason;
      }
    : process;
  const buffer = new ByteBuffer(config.maxBufferBytes ?? 8 * 2 ** 20, log, options.metrics);
  const retry = new RetryState(log, options.metrics);
  // held from arrival until stored (or the bridge stops): the buffer bounds what waits on JetStream
  const store = (topic: string, payload: Buffer, packet?: IPublishPacket): Promise<boolean> => {
    buffer.hold(payload.length);
    // one span per message: what the bridge publishes for it continues its trace
    return traceMqttMessage(topic, payload, packet, () =>
      untilStored(() => read(topic, payload), retry),
    ).finally(() => buffer.release(payload.length));
  };
  const client = mqtt.connect(config.mqttUrl, {
    ...options.client,
    clientId: config.mqttClientId,
    clean: false, // the broker keeps our subscription and unacked messages while we restart
    protocolVersion: 5,
    properties: { receiveMaximum: config.receiveMaximum, sessionExpiryInterval: 3600 },
    reconnectPeriod: 1000,
    customHandleAcks: (topic, message, packet, done) => {
      // stored concurrently; the PUBACK waits for its store and for every earlier PUBACK (OrderedAcks)
      acks.track(packet.messageId ?? -1, store(topic, message, packet));
      done(0);
    },
  });
  // installed before the first packet is read: a resumed session's messages arrive right after the CONNACK
  const acks = new OrderedAcks(client);
  buffer.attach(client);
  client.on('end', () => retry.close());
  client.on('message', (topic, message, packet) => {
    // QoS 0 (Sparkplug's choice for births and data) has no PUBACK to withhold: one still unstored when the
    // bridge stops is lost. Each is read on arrival, so a bridge's decoding follows arrival order.
    if (packet.qos === 0) void store(topic, message, packet);
  });
  await connected(client);
  client.on('error', (err) => log.warn({ err: err.message }, 'MQTT error'));
  return client;
}

/** Resolves on the first CONNACK, like mqtt.connectAsync; a connection error before it ends the client. */
function connected(client: MqttClient): Promise<void> {
  return new Promise((resolve, reject) => {
    const onConnect = () => {
      client.off('error', onError);
      resolve();
    };
    const onError = (err: Error) => {
      client.off('connect', onConnect);
      client.end(true);
      reject(err);
    };
    client.once('connect', onConnect);
    client.once('error', onError);
  });
}

/**
 * The bytes a bridge holds until JetStream acknowledges them. Past the limit it stops reading the socket, so
 * the broker keeps the rest (QoS 1 stays unacknowledged, the broker's queue bounds QoS 0), and reads again once
 * half of it is acknowledged: memory stays bounded while JetStream is slow or down, and nothing is dropped here.
 */
class ByteBuffer {
  private bytes = 0;
  private client?: MqttClient;
  private paused = false;
  private readonly pauses: LogSummary;

  constructor(
    private readonly limit: number,
    log: Logger,
    private readonly metrics?: StageMetrics,
  ) {
    this.pauses = new LogSummary(log, 'paused reading from the broker (bridge buffer full):');
    this.metrics?.bufferLimitBytes.set({ stage: 'ingest' }, limit);
  }

  attach(client: MqttClient): void {
    this.client = client;
    client.on('end', () => this.pauses.close());
  }

  hold(n: number): void {
    this.bytes += n;
    this.metrics?.bufferBytes.set({ stage: 'ingest' }, this.bytes);
    if (this.bytes >= this.limit && !this.paused && this.client) {
      this.paused = true;
      this.client.stream.pause();
      this.metrics?.messages.inc({ stage: 'ingest', outcome: 'source-paused' });
      this.pauses.add('buffer-full');
    }
  }

  release(n: number): void {
    this.bytes -= n;
    this.metrics?.bufferBytes.set({ stage: 'ingest' }, this.bytes);
    if (this.paused && this.bytes <= this.limit / 2 && this.client) {
      this.paused = false;
      this.client.stream.resume();
    }
  }
}

/** First and longest wait between probes while JetStream refuses or cannot be reached. */
const FIRST_WAIT_MS = 100;
const LONGEST_WAIT_MS = 1000;

/**
 * Shared by every message of one bridge: once a store fails, every message waits (those that failed and those
 * that arrive), and after a backoff the oldest one alone tries again; once it is stored, the others go in the
 * order they arrived. So an outage costs one try per backoff, not one per message held, and the bridge is back
 * within a second of JetStream; and messages that came after an outage never overtake those held through it,
 * which downstream, beyond the correlator's out-of-orderness bound, would turn late. Also the retry log summary,
 * and whether the bridge is stopping.
 */
class RetryState {
  closed = false;
  readonly summary: LogSummary;
  private arrivals = 0;
  private waitMs = FIRST_WAIT_MS;
  /** While stores fail: the messages waiting, oldest first. */
  private waiting?: { arrival: number; go: () => void }[];
  private timer?: NodeJS.Timeout;

  constructor(
    log: Logger,
    readonly metrics?: StageMetrics,
  ) {
    this.summary = new LogSummary(log, 'JetStream refused or unreachable; holding messages and retrying:');
  }

  /** A message's place in arrival order. */
  arrive(): number {
    return this.arrivals++;
  }

  /** While stores fail: resolves when this message may try (again). Undefined: it may now. */
  turn(arrival: number): Promise<void> | undefined {
    const waiting = this.waiting;
    if (!waiting) return undefined;
    return new Promise((go) => {
      let i = waiting.length;
      while (i > 0 && (waiting[i - 1] as { arrival: number }).arrival > arrival) i--;
      waiting.splice(i, 0, { arrival, go });
    });
  }

  failed(err: Error): void {
    this.summary.add(err.name || 'error');
    this.metrics?.messages.inc({ stage: 'ingest', outcome: 'store-retry' });
    if (this.closed) return;
    this.waiting ??= [];
    if (this.timer) return; // a backoff runs: its probe covers this message too
    this.timer = setTimeout(() => this.probe(), this.waitMs);
    this.waitMs = Math.min(this.waitMs * 2, LONGEST_WAIT_MS);
  }

  stored(): void {
    if (!this.waiting) return; // no outage: nothing to reset, nothing waits (every message passes here)
    this.waitMs = FIRST_WAIT_MS;
    this.release();
  }

  close(): void {
    this.closed = true;
    this.release();
    this.summary.close();
  }

  // the oldest message tries alone: its store tells whether JetStream is back
  private probe(): void {
    this.timer = undefined;
    this.waiting?.shift()?.go();
  }

  // every waiting message tries, oldest first: their stores start in arrival order
  private release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const waiting = this.waiting ?? [];
    this.waiting = undefined;
    for (const w of waiting) w.go();
  }
}

/**
 * Runs `store` until it succeeds (true) or the bridge stops (false: the message stays unacknowledged, and the
 * broker delivers it again to the next session), waiting while the bridge's stores fail (see RetryState).
 */
async function untilStored(store: () => Promise<void>, retry: RetryState): Promise<boolean> {
  const arrival = retry.arrive();
  while (!retry.closed) {
    const turn = retry.turn(arrival);
    if (turn) {
      await turn; // its probe, every message's turn once a store succeeded, or the bridge stopping
      if (retry.closed) break;
    }
    try {
      await store();
      retry.stored();
      return true;
    } catch (err) {
      retry.failed(err as Error);
    }
  }
  return false;
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
  h.set(Hdr.MqttTopic, topic);
  // named by topic and content, as its AUDIT copy: a redelivery dead-letters once, two messages twice
  h.set(Hdr.MsgId, mqttMessageId(topic, payload));
  await publishDeadLetter(rt.js, worker, `mqtt:${topic}`, payload, h, reason);
  rt.metrics.deadLetters.inc({ stage, reason: reason.code });
  return reason;
}
