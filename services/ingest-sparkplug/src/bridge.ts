import { context } from '@opentelemetry/api';
import type { MqttClient } from 'mqtt';
import { EventTypes, Subjects } from '@busway/proto';
import {
  connectMqttIngest,
  deadLetterMqtt,
  Hdr,
  LogSummary,
  mqttMessageId,
  publishFabric,
  isPoison,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import type { IngestSparkplugConfig } from './config.js';
import { PayloadScanner } from './payload-scanner.js';
import { parseTopic } from './topic.js';

/** The host application's STATE payload (Sparkplug 3.0, JSON). */
const stateOf = (online: boolean, timestamp: number) => Buffer.from(JSON.stringify({ online, timestamp }));

const STAGE = 'ingest';
const WORKER = 'ingest-sparkplug';

/**
 * The Sparkplug B host's MQTT side: every birth, data and death message is stored on AUDIT exactly as it
 * arrived, one subject per edge node, and sparkplug-decode turns it into samples. Reading the bytes is all
 * this bridge does per message, because its one MQTT session cannot be scaled out; the decoding can.
 * Each QoS 1 message is handled inside mqtt.js's `customHandleAcks`, so the broker's PUBACK goes out only
 * after the JetStream PubAck: at-least-once end to end, and the broker's in-flight window (receiveMaximum)
 * bounds what this bridge holds in memory.
 */
export class SparkplugBridge {
  private client?: MqttClient;
  private readonly deadLetters: LogSummary;
  /** Reads a payload's timestamp and seq only, for its message id. */
  private readonly scanner = new PayloadScanner();

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly config: IngestSparkplugConfig,
  ) {
    this.deadLetters = new LogSummary(rt.log, 'dead-lettered MQTT messages:');
  }

  async start(): Promise<void> {
    // Sparkplug 3.0 host STATE: retained, QoS 1, with a will carrying the same timestamp
    const since = Date.now();
    this.client = await connectMqttIngest(
      this.config,
      this.rt.log,
      (topic, message) => this.handle(topic, message),
      {
        metrics: this.rt.metrics,
        client: { will: { topic: this.stateTopic(), payload: stateOf(false, since), qos: 1, retain: true } },
      },
    );
    await this.client.publishAsync(this.stateTopic(), stateOf(true, since), { qos: 1, retain: true });
    const filters = this.config.groups.split(',').map((g) => `spBv1.0/${g.trim()}/#`);
    await this.client.subscribeAsync(filters, { qos: 1 });
    this.rt.log.info({ filters }, 'subscribed to Sparkplug B');
  }

  /** One MQTT message: stored on AUDIT for the decode stage, or dead-lettered. Throws only when NATS fails. */
  async handle(topic: string, message: Buffer): Promise<void> {
    this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'received' });
    let subject: string;
    let source: string;
    try {
      const t = parseTopic(topic);
      if (t.type === 'NCMD' || t.type === 'DCMD' || t.type === 'STATE') return; // commands are not telemetry
      subject = Subjects.sparkplugOriginal(t.group, t.edge);
      source = `/sparkplug/${t.group}/${t.edge}`;
    } catch (err) {
      if (!isPoison(err)) throw err;
      const reason = await deadLetterMqtt(this.rt, WORKER, STAGE, topic, message, err);
      this.deadLetters.add(reason.code);
      return;
    }
    // a broker redelivery is stored once: named by topic, timestamp and seq (what Sparkplug makes unique),
    // else by topic and a hash of the bytes
    const top = this.scanner.topOf(message);
    const id = top ? `sparkplug:${topic}:${top.timestamp}:${top.seq}` : mqttMessageId(topic, message);
    const envelope = { type: EventTypes.SparkplugPayload, source, id };
    await publishFabric(this.rt.publisher, subject, message, envelope, context.active(), {
      [Hdr.MqttTopic]: topic,
    });
    this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'forwarded' });
  }

  private stateTopic(): string {
    return `spBv1.0/STATE/${this.config.hostId}`;
  }

  async stop(): Promise<void> {
    // a clean disconnect suppresses the will: say offline ourselves
    await this.client
      ?.publishAsync(this.stateTopic(), stateOf(false, Date.now()), { qos: 1, retain: true })
      .catch(() => undefined);
    this.deadLetters.close();
    await this.client?.endAsync();
  }
}

export async function startIngestSparkplug(
  rt: WorkerRuntime,
  config: IngestSparkplugConfig,
): Promise<RunningWorker> {
  const bridge = new SparkplugBridge(rt, config);
  await bridge.start();
  return { stop: () => bridge.stop() };
}
