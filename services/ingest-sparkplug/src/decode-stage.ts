import type { Context } from '@opentelemetry/api';
import mqtt, { type MqttClient } from 'mqtt';
import type { JsMsg } from '@nats-io/jetstream';
import {
  busway,
  EventTypes,
  Long,
  org,
  SampleBatchWriter,
  SlabPool,
  Streams,
  Subjects,
  timeNsFromBigInt,
  token,
} from '@busway/proto';
import {
  ACK,
  consumerSpecOf,
  Hdr,
  isPoison,
  LogSummary,
  publishFabric,
  reasonOf,
  resumeFromAckFloor,
  startConsumeLoop,
  type ConsumeLoop,
  type ConsumerSpec,
  type Outcome,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import type { SparkplugDecodeConfig } from './config.js';
import { BirthStore, type StoredBirth } from './birth-store.js';
import { decodePayload, engUnitOf, metricsToSamples, SpType, UnknownAlias } from './decoder.js';
import { NodeState } from './node-state.js';
import { ValueKind } from './points.js';
import { SparkplugTranscoder } from './transcoder.js';
import { parseTopic, sourceIdOf, type SparkplugTopic } from './topic.js';

/** One message read: its SampleBatch bytes (none when it has no sample), Nats-Msg-Id, and a birth to store. */
interface Decoded {
  topic: SparkplugTopic;
  data: Uint8Array;
  samples: number;
  msgId: string;
  birth?: StoredBirth;
  /** The samples (and birth) are stored: `data` was given back to its slab. */
  stored?: boolean;
}

/** Where a message sits in AUDIT, and whether it was decoded before. */
interface DecodeAt {
  seq: number;
  ingestNs: Long;
  replay: boolean;
}

const STAGE = 'ingest';
const WORKER = 'sparkplug-decode';
const SLAB_BYTES = 256 * 1024;
const toNum = (v: Long | number | null | undefined) =>
  v == null ? 0 : typeof v === 'number' ? v : v.toNumber();

/** The durable consumer of a replica: `durable` for every group, `<durable>-<group>` for one group's. */
function decodeDurable(c: { durable: string; groups: string }): string {
  return c.groups === '+' ? c.durable : `${c.durable}-${token(c.groups)}`;
}

/**
 * The replica's consumer on AUDIT: every edge node's subjects, or one group's. Two tokens, not `>`: earlier
 * bridges kept their copies on one token (`audit.v1.sparkplug.spbv1-0-…`), which must not be decoded again
 * after an upgrade.
 */
export function decodeConsumer(c: SparkplugDecodeConfig): ConsumerSpec {
  const filter = Subjects.sparkplugOriginalFilter(c.groups === '+' ? undefined : c.groups);
  return consumerSpecOf(Streams.Audit.name, decodeDurable(c), filter, c);
}

/** The batch's source field, encoded once per node or device and topic. */
function sourceFieldOf(dev: NodeState, source: busway.v1.ISourceRef): Uint8Array {
  const topic = source.address ?? '';
  if (dev.sourceField?.topic === topic) return dev.sourceField.bytes;
  const bytes = busway.v1.SampleBatch.encode({ source }).finish();
  dev.sourceField = { topic, bytes };
  return bytes;
}

/**
 * The Sparkplug B host's decoding: reads each edge node's messages from AUDIT in the order the bridge received
 * them, and does what the specification asks of a host application. Births give aliases (kept in a KV
 * bucket for restarts), `seq` is tracked with a reorder timeout, an unknown alias or a lasting gap sends
 * `Node Control/Rebirth`, a death marks the node's or device's last values stale. Data goes to RAW as
 * SampleBatches; a message is acknowledged once its samples and its birth are stored.
 */
export class SparkplugDecodeStage {
  private readonly nodes = new Map<string, NodeState>();
  private births?: BirthStore;
  private loop?: ConsumeLoop;
  private client?: MqttClient;
  /** Edge node -> when a rebirth was last requested, so a burst of unknown aliases asks once. */
  private readonly rebirthAsked = new Map<string, number>();
  private readonly seqGaps: LogSummary;
  private readonly slabs: SlabPool;
  private readonly writer: SampleBatchWriter;
  private readonly transcoder: SparkplugTranscoder;
  /** Messages decoded once, kept while a batch held in place (RAW unavailable) is tried again. */
  private readonly decoded = new WeakMap<JsMsg, Decoded>();
  /** The newest AUDIT sequence decoded: an older one is a redelivery, and must not move seq or birth state. */
  private newestSeq = 0;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly config: SparkplugDecodeConfig,
  ) {
    // enough slabs for the samples of a full batch (a sample takes about twice its metric's bytes)
    this.slabs = new SlabPool(SLAB_BYTES, 64);
    this.writer = new SampleBatchWriter(this.slabs);
    this.transcoder = new SparkplugTranscoder(this.slabs);
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
    // only for rebirth requests: QoS 0 commands, queued by mqtt.js while the broker is away
    this.client = mqtt.connect(this.config.mqttUrl, {
      clientId: this.config.mqttClientId,
      reconnectPeriod: 1000,
    });
    this.client.on('error', (err) => this.rt.log.warn({ err: err.message }, 'MQTT error (rebirth requests)'));
    // a node's messages must be read in order: what a killed run held comes back first, not after the ack wait
    const spec = decodeConsumer(this.config);
    const from = await resumeFromAckFloor(this.rt.jsm, spec);
    if (from !== undefined)
      this.rt.log.warn(
        { from },
        'the last run stopped holding messages: reading AUDIT again from its ack floor',
      );
    this.loop = await startConsumeLoop({
      stage: STAGE,
      worker: WORKER,
      js: this.rt.js,
      stream: Streams.Audit.name,
      durable: spec.durable,
      config: this.config,
      metrics: this.rt.metrics,
      log: this.rt.log,
      termWithReason: this.rt.features().termWithReason,
      // RAW unavailable: keep a node's messages in order rather than decode later ones first
      holdWhileUnavailable: true,
      handle: (batch, ctx) => this.handleBatch(batch, ctx),
    });
  }

  /** Decodes a batch in order (the state follows each node's sequence), then stores its output at once. */
  private async handleBatch(batch: JsMsg[], ctx: Context): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    const pending: Decoded[] = [];
    for (const msg of batch) {
      const outcome = this.decodeOnce(msg);
      if ('kind' in outcome) outcomes.push(outcome);
      else {
        outcomes.push(ACK);
        if (!outcome.stored) pending.push(outcome);
      }
    }
    const work: (Promise<unknown> | undefined)[] = [];
    for (const d of pending) {
      // stored before the ack: a restart right after this birth still knows its aliases
      if (d.birth) work.push(this.births?.save(sourceIdOf(d.topic), d.birth));
      if (d.samples === 0) continue;
      const { group, edge } = d.topic;
      const envelope = { type: EventTypes.SampleBatch, source: `/sparkplug/${group}/${edge}`, id: d.msgId };
      work.push(
        publishFabric(
          this.rt.publisher,
          Subjects.rawSamples('sparkplug', `${group}-${edge}`),
          d.data,
          envelope,
          ctx,
        ),
      );
    }
    await Promise.all(work);
    let samples = 0;
    for (const d of pending) {
      d.stored = true;
      samples += d.samples;
      this.slabs.release(d.data); // stored: nothing reads it any more
    }
    this.rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, samples);
    return outcomes;
  }

  /** A message's decoding, made once (a held batch is tried again with the same messages), or why it has none. */
  private decodeOnce(msg: JsMsg): Decoded | Outcome {
    const done = this.decoded.get(msg);
    if (done) return done;
    const topic = msg.headers?.get(Hdr.MqttTopic) ?? '';
    try {
      const t = parseTopic(topic);
      const replay = msg.seq <= this.newestSeq;
      if (!replay) this.newestSeq = msg.seq;
      const at = { seq: msg.seq, ingestNs: timeNsFromBigInt(msg.timestampNanos), replay };
      const decoded = this.decode(t, topic, msg.data, at);
      this.decoded.set(msg, decoded);
      return decoded;
    } catch (err) {
      if (!isPoison(err)) throw err;
      if (err instanceof UnknownAlias) this.requestRebirth(topic);
      return { kind: 'poison', ...reasonOf(err) };
    }
  }

  /**
   * `at.seq`: the message's AUDIT sequence; `at.ingestNs`: when the bridge stored it; `at.replay`: it was
   * decoded before (a redelivery), so it must not move the node's seq or birth state back.
   */
  private decode(t: SparkplugTopic, topic: string, message: Uint8Array, at: DecodeAt): Decoded {
    const { ingestNs, replay } = at;
    const nodeKey = `${t.group}/${t.edge}`;
    const key = sourceIdOf(t);
    const node = this.state(nodeKey);
    const dev = this.state(key);
    const source = { protocol: 'sparkplug', sourceId: key, address: topic };
    if (t.type === 'NDATA' || t.type === 'DDATA') {
      // nearly every message: its bytes straight to sample bytes; anything unusual takes the path below
      const fast = this.transcoder.transcode(message, dev, ingestNs, sourceFieldOf(dev, source));
      if (fast) {
        if (!replay) this.trackSeq(node, nodeKey, fast.seq, false, topic);
        this.countSkipped(fast.skipped);
        const msgId = `sparkplug:${key}:${t.type}:${fast.timestamp}:${fast.seq}`;
        return { topic: t, data: fast.data, samples: fast.samples, msgId };
      }
    }
    const payload = decodePayload(message);
    const seq = payload.seq == null ? undefined : toNum(payload.seq);
    const msgId = `sparkplug:${key}:${t.type}:${toNum(payload.timestamp)}:${seq ?? '-'}`;
    const batch = (samples: busway.v1.ISample[]): Decoded => ({
      topic: t,
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
      if (!replay) {
        this.restore(key, birth);
        dev.birthSeq = at.seq;
      } else if (dev.birthSeq !== at.seq) birth = undefined; // an older birth than the one in force: not stored again
    } else if (t.type === 'NDEATH' || t.type === 'DDEATH') {
      const bd = payload.metrics.find((m) => m.name === 'bdSeq');
      // a redelivered death of a node or device born again since marks nothing stale (an NDEATH's dev is its node)
      if (replay && (dev.birthSeq ?? 0) > at.seq) return batch([]);
      // a death that does not match the current birth is stale (an old session's will): ignore it
      if (t.type === 'NDEATH' && bd && node.bdSeq !== undefined && toNum(bd.longValue) !== node.bdSeq)
        return batch([]);
      return batch(this.staleSamples(t.type === 'NDEATH' ? nodeKey : key, ingestNs));
    }
    if (seq !== undefined && !replay) this.trackSeq(node, nodeKey, seq, t.type === 'NBIRTH', topic);

    const { samples, skipped, points } = metricsToSamples(payload, {
      topic: t,
      address: topic,
      byAlias: dev.byAlias,
      byName: dev.byName,
      ingestTimeNs: ingestNs,
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
   * Sparkplug `seq` (see SeqTracker): seqs skipped and not arrived within `reorderTimeoutMs` (a reordering path,
   * such as a broker cluster, may deliver them late), or lost for good, make the node be asked to rebirth.
   */
  private trackSeq(node: NodeState, nodeKey: string, seq: number, birth: boolean, topic: string): void {
    if (birth) {
      node.clearGap();
      node.seq.restart(seq);
      return;
    }
    const step = node.seq.observe(seq);
    if (step.gap) {
      this.seqGaps.add(nodeKey);
      this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'seq-gap' });
      node.gapTimer ??= setTimeout(() => {
        node.clearGap();
        this.requestRebirth(topic);
      }, this.config.reorderTimeoutMs);
    }
    if (step.missing === 0 && node.gapTimer) node.clearGap();
    if (step.lost) this.requestRebirth(topic);
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
    this.rt.log.warn({ node: nodeKey }, 'unknown alias or lasting seq gap: requesting a rebirth');
    this.client
      ?.publishAsync(`${ns}/${group}/NCMD/${edge}`, Buffer.from(payload), { qos: 0 })
      .catch((err: Error) => {
        this.rt.log.warn({ err: err.message, node: nodeKey }, 'rebirth request not sent');
      });
  }

  /** Last known samples of a node (and all its devices) or a device, re-stamped STALE at ingest time. */
  private staleSamples(prefix: string, now: Long): busway.v1.ISample[] {
    const out: busway.v1.ISample[] = [];
    for (const [key, state] of this.nodes) {
      if (key !== prefix && !key.startsWith(`${prefix}/`)) continue;
      for (const p of state.points.values()) {
        if (p.last.kind !== ValueKind.None) out.push(p.last.stale(p.id, now));
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    for (const node of this.nodes.values()) node.clearGap();
    this.seqGaps.close();
    await this.client?.endAsync();
  }
}

export async function startSparkplugDecode(
  rt: WorkerRuntime,
  config: SparkplugDecodeConfig,
): Promise<RunningWorker> {
  const stage = new SparkplugDecodeStage(rt, config);
  await stage.start();
  return { stop: () => stage.stop() };
}
