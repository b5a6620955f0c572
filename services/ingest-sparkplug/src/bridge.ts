import { context } from '@opentelemetry/api';
import type { MqttClient } from 'mqtt';
import { busway, EventTypes, Long, nowNs, org, SampleBatchWriter, SlabPool, Subjects } from '@busway/proto';
import {
  connectMqttIngest,
  deadLetterMqtt,
  LogSummary,
  publishFabric,
  isPoison,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import type { IngestSparkplugConfig } from './config.js';
import { BirthStore, type StoredBirth } from './birth-store.js';
import { decodePayload, engUnitOf, metricsToSamples, SpType, UnknownAlias } from './decoder.js';
import { nextSeq, NodeState } from './node-state.js';
import { ValueKind } from './points.js';
import { SparkplugTranscoder } from './transcoder.js';
import { parseTopic, sourceIdOf, type SparkplugTopic } from './topic.js';

/** The host application's STATE payload (Sparkplug 3.0, JSON). */
const stateOf = (online: boolean, timestamp: number) => Buffer.from(JSON.stringify({ online, timestamp }));

/** A message read: its SampleBatch bytes (none when it has no sample), Nats-Msg-Id, and a birth to store. */
interface Decoded {
  data: Uint8Array;
  samples: number;
  msgId: string;
  birth?: StoredBirth;
  /** The samples are stored: `data` was given back to its slab. */
  stored?: boolean;
}

/** The batch's source field, encoded once per node or device and topic. */
function sourceFieldOf(dev: NodeState, source: busway.v1.ISourceRef): Uint8Array {
  const topic = source.address ?? '';
  if (dev.sourceField?.topic === topic) return dev.sourceField.bytes;
  const bytes = busway.v1.SampleBatch.encode({ source }).finish();
  dev.sourceField = { topic, bytes };
  return bytes;
}

const STAGE = 'ingest';
const SLAB_BYTES = 256 * 1024;
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
  private births?: BirthStore;
  /** Edge node -> when a rebirth was last requested, so a burst of unknown aliases asks once. */
  private readonly rebirthAsked = new Map<string, number>();
  private readonly deadLetters: LogSummary;
  private readonly seqGaps: LogSummary;
  /** Memory for the batches written, given back once stored. */
  private readonly slabs: SlabPool;
  private readonly writer: SampleBatchWriter;
  private readonly transcoder: SparkplugTranscoder;
  /** Messages decoded once, kept while their Buffer lives (until stored). */
  private readonly decoded = new WeakMap<Buffer, Decoded>();

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly config: IngestSparkplugConfig,
  ) {
    // enough slabs kept for the samples of a full input buffer (a sample takes about twice its metric's bytes)
    this.slabs = new SlabPool(SLAB_BYTES, Math.ceil((2 * config.maxBufferBytes) / SLAB_BYTES));
    this.writer = new SampleBatchWriter(this.slabs);
    this.transcoder = new SparkplugTranscoder(this.slabs);
    this.deadLetters = new LogSummary(rt.log, 'dead-lettered MQTT messages:');
    this.seqGaps = new LogSummary(rt.log, 'Sparkplug seq gaps:');
  }

  private state(key: string): NodeState {
    let s = this.nodes.get(key);
    if (!s) this.nodes.set(key, (s = new NodeState(key)));
    return s;
  }

  async start(): Promise<void> {
    this.births = await BirthStore.open(this.rt.js, this.config.birthBucket, this.config.streamReplicas);
    const stored = await this.births.loadAll();
    for (const [sourceId, birth] of stored) this.restore(sourceId, birth);
    this.rt.log.info({ sources: stored.size }, 'births restored from the KV bucket');
    // Sparkplug 3.0 host STATE: retained, QoS 1, with a will carrying the same timestamp
    const since = Date.now();
    this.client = await connectMqttIngest(
      this.config,
      this.rt.log,
      (topic, message) => this.handle(topic, message),
      {
        audit: { js: this.rt.publisher, protocol: 'sparkplug' },
        metrics: this.rt.metrics,
        client: { will: { topic: this.stateTopic(), payload: stateOf(false, since), qos: 1, retain: true } },
      },
    );
    await this.client.publishAsync(this.stateTopic(), stateOf(true, since), { qos: 1, retain: true });
    const filters = this.config.groups.split(',').map((g) => `spBv1.0/${g.trim()}/#`);
    await this.client.subscribeAsync(filters, { qos: 1 });
    this.rt.log.info({ filters }, 'subscribed to Sparkplug B');
  }

  /** One MQTT message: decode, publish samples, or dead-letter it with the reason. Throws only when NATS fails. */
  async handle(topic: string, message: Buffer): Promise<void> {
    this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'received' });
    let decoded: Decoded;
    let t: SparkplugTopic;
    try {
      t = parseTopic(topic);
      if (t.type === 'NCMD' || t.type === 'DCMD' || t.type === 'STATE') return; // commands are not telemetry
      // a retry (JetStream was down) must not replay the message through the seq and birth state
      decoded = this.decoded.get(message) ?? this.decode(t, topic, message);
      this.decoded.set(message, decoded);
    } catch (err) {
      if (!isPoison(err)) throw err;
      if (err instanceof UnknownAlias) this.requestRebirth(topic);
      const reason = await deadLetterMqtt(this.rt, WORKER, STAGE, topic, message, err);
      this.deadLetters.add(reason.code);
      return;
    }
    // a retry because the AUDIT copy failed: the samples are stored already
    if (decoded.stored) return;
    // stored before the PUBACK: a restart right after this birth still knows its aliases
    const { data, samples, msgId, birth } = decoded;
    if (birth) await this.births?.save(sourceIdOf(t), birth);
    if (samples > 0) {
      await publishFabric(
        this.rt.publisher,
        Subjects.rawSamples('sparkplug', `${t.group}-${t.edge}`),
        data,
        { type: EventTypes.SampleBatch, source: `/sparkplug/${t.group}/${t.edge}`, id: msgId },
        context.active(),
      );
    }
    decoded.stored = true;
    this.slabs.release(data); // stored: nothing reads it any more
    this.rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, samples);
  }

  private decode(t: SparkplugTopic, topic: string, message: Buffer): Decoded {
    const nodeKey = `${t.group}/${t.edge}`;
    const key = sourceIdOf(t);
    const node = this.state(nodeKey);
    const dev = this.state(key);
    const source = { protocol: 'sparkplug', sourceId: key, address: topic };
    if (t.type === 'NDATA' || t.type === 'DDATA') {
      // nearly every message: its bytes straight to sample bytes; anything unusual takes the path below
      const fast = this.transcoder.transcode(message, dev, nowNs(), sourceFieldOf(dev, source));
      if (fast) {
        this.trackSeq(node, nodeKey, fast.seq, false, topic);
        this.countSkipped(fast.skipped);
        const msgId = `sparkplug:${key}:${t.type}:${fast.timestamp}:${fast.seq}`;
        return { data: fast.data, samples: fast.samples, msgId };
      }
    }
    const payload = decodePayload(message);
    const seq = payload.seq == null ? undefined : toNum(payload.seq);
    const msgId = `sparkplug:${key}:${t.type}:${toNum(payload.timestamp)}:${seq ?? '-'}`;
    const batch = (samples: busway.v1.ISample[]): Decoded => ({
      data: this.writer.encode({ samples, source }),
      samples: samples.length,
      msgId,
    });

    let birth: StoredBirth | undefined;
    if (t.type === 'NBIRTH' || t.type === 'DBIRTH') {
      birth = { metrics: [] };
      for (const m of payload.metrics) {
        if (!m.name) continue;
        birth.metrics.push({
          name: m.name,
          datatype: m.datatype ?? 0,
          unit: engUnitOf(m),
          // protobufjs gives an absent alias its default 0: only one on the wire is an alias
          alias: Object.hasOwn(m, 'alias') ? toNum(m.alias) : undefined,
        });
        if (m.name === 'bdSeq') birth.bdSeq = toNum(m.longValue);
      }
      this.restore(key, birth);
    } else if (t.type === 'NDEATH' || t.type === 'DDEATH') {
      const bd = payload.metrics.find((m) => m.name === 'bdSeq');
      // a death that does not match the current birth is stale (an old session's will): ignore it
      if (t.type === 'NDEATH' && bd && node.bdSeq !== undefined && toNum(bd.longValue) !== node.bdSeq)
        return batch([]);
      return batch(this.staleSamples(t.type === 'NDEATH' ? `${nodeKey}` : key));
    }
    if (seq !== undefined) this.trackSeq(node, nodeKey, seq, t.type === 'NBIRTH', topic);

    const { samples, skipped, points } = metricsToSamples(payload, {
      topic: t,
      address: topic,
      byAlias: dev.byAlias,
      byName: dev.byName,
      ingestTimeNs: nowNs(),
      points: dev.points,
    });
    this.countSkipped(skipped);
    samples.forEach((s, i) => points[i]?.last.remember(s));
    return { ...batch(samples), birth };
  }

  private countSkipped(skipped: number): void {
    if (skipped > 0) this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'skipped-metric' }, skipped);
  }

  /** Applies a birth (just received, or restored from the KV bucket) to a node's or device's state. */
  private restore(sourceId: string, birth: StoredBirth): void {
    const dev = this.state(sourceId);
    dev.clearDefinitions();
    for (const { alias, ...def } of birth.metrics) {
      dev.byName.set(def.name, def);
      if (alias !== undefined) dev.byAlias.set(alias, def);
    }
    if (birth.bdSeq !== undefined) this.state(sourceId.split('/').slice(0, 2).join('/')).bdSeq = birth.bdSeq;
  }

  /**
   * Sparkplug `seq` (0..255, per node): a jump records the skipped seqs as missing; if they have not all arrived
   * within `reorderTimeoutMs` (a reordering path, such as a broker cluster, may deliver them late) the node is
   * asked to rebirth. A late seq is processed as usual and never moves the sequence back.
   */
  private trackSeq(node: NodeState, nodeKey: string, seq: number, birth: boolean, topic: string): void {
    if (birth) {
      node.clearGap();
      node.lastSeq = seq;
      return;
    }
    if (node.missing.delete(seq)) {
      if (node.missing.size === 0) node.clearGap();
      return;
    }
    if (node.lastSeq !== undefined && seq !== nextSeq(node.lastSeq)) {
      for (let s = nextSeq(node.lastSeq); s !== seq; s = nextSeq(s)) node.missing.add(s);
      this.seqGaps.add(nodeKey);
      this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'seq-gap' });
      node.gapTimer ??= setTimeout(() => {
        node.clearGap();
        this.requestRebirth(topic);
      }, this.config.reorderTimeoutMs);
    }
    node.lastSeq = seq;
  }

  /** NCMD `Node Control/Rebirth` to the node (Sparkplug 3.0 host duty on an unknown alias), at most once per interval. */
  private requestRebirth(topic: string): void {
    const [ns, group, , edge] = topic.split('/');
    const nodeKey = `${group}/${edge}`;
    const now = Date.now();
    if (now - (this.rebirthAsked.get(nodeKey) ?? 0) < this.config.rebirthIntervalMs) return;
    this.rebirthAsked.set(nodeKey, now);
    const payload = org.eclipse.tahu.protobuf.Payload.encode({
      timestamp: Long.fromNumber(now, true),
      metrics: [{ name: 'Node Control/Rebirth', datatype: SpType.Boolean, booleanValue: true }],
    }).finish();
    this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'rebirth-requested' });
    this.rt.log.warn({ node: nodeKey }, 'unknown alias: requesting a rebirth');
    this.client
      ?.publishAsync(`${ns}/${group}/NCMD/${edge}`, Buffer.from(payload), { qos: 0 })
      .catch((err: Error) => {
        this.rt.log.warn({ err: err.message, node: nodeKey }, 'rebirth request not sent');
      });
  }

  /** Last known samples of a node (and all its devices) or a device, re-stamped STALE at ingest time. */
  private staleSamples(prefix: string): busway.v1.ISample[] {
    const now = nowNs();
    const out: busway.v1.ISample[] = [];
    for (const [key, state] of this.nodes) {
      if (key !== prefix && !key.startsWith(`${prefix}/`)) continue;
      for (const p of state.points.values()) {
        if (p.last.kind !== ValueKind.None) out.push(p.last.stale(p.id, now));
      }
    }
    return out;
  }

  private stateTopic(): string {
    return `spBv1.0/STATE/${this.config.hostId}`;
  }

  async stop(): Promise<void> {
    for (const node of this.nodes.values()) node.clearGap();
    // a clean disconnect suppresses the will: say offline ourselves
    await this.client
      ?.publishAsync(this.stateTopic(), stateOf(false, Date.now()), { qos: 1, retain: true })
      .catch(() => undefined);
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
