import { context } from '@opentelemetry/api';
import mqtt, { type MqttClient } from 'mqtt';
import { busway, EventTypes, Long, nowNs, Subjects } from '@busway/proto';
import { headers } from '@nats-io/transport-node';
import {
  LogSummary,
  publishDeadLetter,
  publishFabric,
  reasonOf,
  isPoison,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import type { IngestSparkplugConfig } from './config.js';
import { decodePayload, engUnitOf, metricsToSamples } from './decoder.js';
import { nextSeq, NodeState } from './node-state.js';
import { parseTopic, sourceIdOf, type SparkplugTopic } from './topic.js';

const STAGE = 'ingest';
const WORKER = 'ingest-sparkplug';
const toNum = (v: Long | number | null | undefined) =>
  v == null ? 0 : typeof v === 'number' ? v : v.toNumber();

/**
 * Sparkplug B host → raw fabric samples. Each QoS 1 message is handled inside mqtt.js's `customHandleAcks`,
 * so the broker's PUBACK goes out only after the JetStream PubAck: at-least-once end to end, and the broker's
 * in-flight window (receiveMaximum) bounds what this bridge holds in memory.
 */
export class SparkplugBridge {
  private readonly nodes = new Map<string, NodeState>();
  private client?: MqttClient;
  private readonly deadLetters: LogSummary;
  private readonly seqGaps: LogSummary;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly config: IngestSparkplugConfig,
  ) {
    this.deadLetters = new LogSummary(rt.log, 'dead-lettered MQTT messages:');
    this.seqGaps = new LogSummary(rt.log, 'Sparkplug seq gaps:');
  }

  private state(key: string): NodeState {
    let s = this.nodes.get(key);
    if (!s) this.nodes.set(key, (s = new NodeState()));
    return s;
  }

  async start(): Promise<void> {
    this.client = await mqtt.connectAsync(this.config.mqttUrl, {
      clientId: this.config.mqttClientId,
      clean: false, // the broker keeps our subscription and unacked messages while we restart
      protocolVersion: 5,
      properties: { receiveMaximum: this.config.receiveMaximum, sessionExpiryInterval: 3600 },
      reconnectPeriod: 1000,
      customHandleAcks: (topic, message, _packet, done) => {
        this.handle(topic, message).then(
          () => done(0),
          (err: unknown) => {
            // JetStream unreachable: withhold the PUBACK; the broker redelivers on reconnect
            this.rt.log.error({ err, topic }, 'could not hand the message to JetStream; not acknowledging');
            done(0x80);
          },
        );
      },
    });
    this.client.on('error', (err) => this.rt.log.warn({ err: err.message }, 'MQTT error'));
    const filters = this.config.groups.split(',').map((g) => `spBv1.0/${g.trim()}/#`);
    await this.client.subscribeAsync(filters, { qos: 1 });
    this.rt.log.info({ filters }, 'subscribed to Sparkplug B');
  }

  /** One MQTT message: decode, publish samples, or dead-letter it with the reason. Throws only when NATS fails. */
  async handle(topic: string, message: Buffer): Promise<void> {
    this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'received' });
    let batch: busway.v1.ISampleBatch;
    let t: SparkplugTopic;
    let msgId: string;
    try {
      t = parseTopic(topic);
      if (t.type === 'NCMD' || t.type === 'DCMD' || t.type === 'STATE') return; // commands are not telemetry
      ({ batch, msgId } = this.decode(t, topic, message));
    } catch (err) {
      if (!isPoison(err)) throw err;
      const reason = reasonOf(err);
      const h = headers();
      h.set('mqtt-topic', topic);
      await publishDeadLetter(this.rt.js, WORKER, `mqtt:${topic}`, message, h, reason);
      this.rt.metrics.deadLetters.inc({ stage: STAGE, reason: reason.code });
      this.deadLetters.add(reason.code);
      return;
    }
    const n = batch.samples?.length ?? 0;
    if (n > 0) {
      const data = busway.v1.SampleBatch.encode(batch).finish();
      await publishFabric(
        this.rt.js,
        Subjects.rawSamples('sparkplug', `${t.group}-${t.edge}`),
        data,
        { type: EventTypes.SampleBatch, source: `/sparkplug/${t.group}/${t.edge}`, id: msgId },
        context.active(),
      );
    }
    this.rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, n);
  }

  private decode(
    t: SparkplugTopic,
    topic: string,
    message: Buffer,
  ): { batch: busway.v1.ISampleBatch; msgId: string } {
    const payload = decodePayload(message);
    const nodeKey = `${t.group}/${t.edge}`;
    const key = sourceIdOf(t);
    const node = this.state(nodeKey);
    const dev = this.state(key);
    const seq = payload.seq == null ? undefined : toNum(payload.seq);
    const msgId = `sparkplug:${key}:${t.type}:${toNum(payload.timestamp)}:${seq ?? '-'}`;

    if (t.type === 'NBIRTH' || t.type === 'DBIRTH') {
      dev.clearDefinitions();
      for (const m of payload.metrics) {
        if (!m.name) continue;
        const def = { name: m.name, datatype: m.datatype ?? 0, unit: engUnitOf(m) };
        dev.byName.set(m.name, def);
        if (m.alias != null) dev.byAlias.set(toNum(m.alias), def);
        if (m.name === 'bdSeq') node.bdSeq = toNum(m.longValue);
      }
    } else if (t.type === 'NDEATH' || t.type === 'DDEATH') {
      const bd = payload.metrics.find((m) => m.name === 'bdSeq');
      // a death that does not match the current birth is stale (an old session's will): ignore it
      if (t.type === 'NDEATH' && bd && node.bdSeq !== undefined && toNum(bd.longValue) !== node.bdSeq)
        return { batch: { samples: [] }, msgId };
      return { batch: { samples: this.staleSamples(t.type === 'NDEATH' ? `${nodeKey}` : key) }, msgId };
    }
    if (seq !== undefined && t.type !== 'NBIRTH') {
      if (node.lastSeq !== undefined && seq !== nextSeq(node.lastSeq)) this.seqGaps.add(nodeKey);
    }
    if (seq !== undefined) node.lastSeq = seq;

    const { samples, skipped } = metricsToSamples(payload, {
      topic: t,
      address: topic,
      byAlias: dev.byAlias,
      byName: dev.byName,
      ingestTimeNs: nowNs(),
    });
    if (skipped > 0) this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'skipped-metric' }, skipped);
    for (const s of samples) dev.last.set(s.pointId ?? '', s);
    return { batch: { samples, source: { protocol: 'sparkplug', sourceId: key, address: topic } }, msgId };
  }

  /** Last known samples of a node (and all its devices) or a device, re-stamped STALE at ingest time. */
  private staleSamples(prefix: string): busway.v1.ISample[] {
    const now = nowNs();
    const out: busway.v1.ISample[] = [];
    for (const [key, state] of this.nodes) {
      if (key !== prefix && !key.startsWith(`${prefix}/`)) continue;
      for (const s of state.last.values()) {
        out.push({
          ...s,
          quality: busway.v1.Quality.QUALITY_STALE,
          ingestTimeNs: now,
          eventTimeNs: now,
          sequence: Long.fromValue(now),
          flags: ['death'],
        });
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    this.deadLetters.close();
    this.seqGaps.close();
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
