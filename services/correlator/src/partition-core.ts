import { busway, EventTypes, msFromTimeNs, Subjects } from '@busway/proto';
import type { Provenance } from '@busway/runtime';
import { type CorrelationEngine } from './engine.js';
import type { EngineState } from './engine-state.js';
import {
  OrderBuffer,
  type Orderable,
  type OrderBufferOptions,
  type OrderBufferState,
} from './order-buffer.js';
import { parseNormSubject, partitionOf, type PartitionKey } from './partitioning.js';
import { EngineFieldReader } from './engine-fields.js';
import { NormBatchScanner, PositionMemo } from './norm-scanner.js';
import { RawSample, type SampleFields } from './raw-sample.js';
import { RecentSeqs } from './recent-seqs.js';

/** NORM subjects whose route is remembered (one per rack); past this many the map starts over. */
const MAX_ROUTES = 10_000;

/** Where a NORM subject's samples go, and whether its partition suffix disagrees with this configuration. */
interface Route {
  out: string;
  mismatched: boolean;
  /** What the subject's last batch held, position by position: what the scan compares bytes with. */
  memo: PositionMemo;
}

/** Input sequences remembered per input: well beyond any consumer's maxAckPending, 0.5 MB each. */
const RECENT_SEQS = 65_536;

/** One fetched NORM message, as the core needs it. */
export interface InputMessage {
  /** Which input (consumer) of the partition it came from. */
  input: number;
  /** Stream sequence: the position a checkpoint records. */
  seq: number;
  subject: string;
  /** CloudEvents type: decides the decoder. */
  type: string;
  /** Trace and source time it came with: the outputs made of its items continue or link that trace. */
  trace?: Provenance;
  /** Messages still waiting in the stream for this input after this one (JetStream's count), when known. */
  pending?: number;
  /** The consumer's delivery sequence and whether this is a redelivery, when known (gap detection). */
  delivery?: number;
  redelivered?: boolean;
}

/** Where an item came from and where it goes: one object per input message, shared by its items. */
interface MessageContext {
  /** The input subject: the order buffer's watermark source. */
  source: string;
  input: number;
  msgSeq: number;
  /** The output subject. */
  out: string;
  trace?: Provenance;
}

/** A sample waiting in the buffer: its bytes and ordering fields in one object, for many wait. */
class SampleItem extends RawSample implements Orderable {
  constructor(
    f: SampleFields,
    readonly ctx: MessageContext,
  ) {
    super(f);
  }

  get kind(): 'sample' {
    return 'sample';
  }

  get source(): string {
    return this.ctx.source;
  }
}

type EventItem = Orderable & { kind: 'event'; event: busway.v1.IEvent; ctx: MessageContext };
type Item = SampleItem | EventItem;

/** A batch for one output subject, with an id that a replay reproduces. */
export interface OutBatch<T> {
  subject: string;
  id: string;
  items: T[];
  /** The inputs its items came from (see InputMessage.trace). */
  sources?: (Provenance | undefined)[];
}

/** Everything a flush produced, to be published before the next checkpoint. */
export interface Outputs {
  /** Samples as the bytes they came in (`RawBatchWriter` writes their batches). */
  ordered: OutBatch<RawSample>[];
  events: OutBatch<busway.v1.IEvent>[];
  late: OutBatch<RawSample>[];
  incidents: busway.v1.IIncident[];
}

/** The partition's position in each input and its state: what Redis keeps. */
export interface Checkpoint {
  version: 1;
  partition: number;
  /** Per input: every message up to processedSeq is reflected; replay starts at replayFrom. */
  inputs: { processedSeq: number; replayFrom: number }[];
  buffer: OrderBufferState;
  engine: EngineState;
  wallMs: number;
}

/** What ingesting one message came to. */
export type IngestResult =
  | { kind: 'ok'; items: number }
  /** Already ingested by this process: held for the next ack, its items not pushed again. */
  | { kind: 'redelivered'; items: number }
  | { kind: 'replayed'; items: number }
  | { kind: 'poison'; code: string; message: string };

export interface PartitionCoreOptions extends OrderBufferOptions {
  partition: number;
  partitionCount: number;
  partitionBy: PartitionKey;
  /** Largest ordered batch; a bigger slot of one subject is cut in chunks. @default 1000 */
  maxBatchSamples?: number;
  /** The consumers' ack wait: how long lost deliveries take to come back. @default 30000 */
  ackWaitMs?: number;
}

const DECODE_ERROR = /index out of range|invalid wire type|illegal|invalid/i;

/**
 * One partition's pipeline without I/O: decode, order, correlate, and collect what to publish. The worker
 * and the offline scorer run exactly this. Positions per input are kept so a checkpoint can say where a
 * replay must start: the oldest message that still has samples in the buffer.
 */
export class PartitionCore {
  readonly buffer: OrderBuffer<Item>;
  private outputs: Outputs = { ordered: [], events: [], late: [], incidents: [] };
  private readonly processed: number[] = [];
  private readonly live: Map<number, number>[] = [];
  /** Per input: sequences ingested lately, so a redelivery is not pushed twice (dedup keeps only 16 per point). */
  private readonly recent: RecentSeqs[] = [];
  private readonly replayUntil: number[] = [];
  /** After a restore: inputs whose replay has not reached the checkpoint's position yet. */
  private readonly replayOpen = new Set<number>();
  private lastInputWallMs = 0;
  /** Per input: the last delivery sequence, deliveries lost in a failed pull and not yet redelivered, since when. */
  private readonly deliveries: { last: number; missing: number; sinceMs: number }[] = [];
  /** Per input: what JetStream said still waited behind the last message. */
  private readonly backlog: number[] = [];
  private readonly maxBatch: number;
  private readonly scanner: NormBatchScanner;
  private readonly fields: EngineFieldReader;
  private readonly routes = new Map<string, Route>();
  /** Counters since start: the worker turns them into metrics. */
  readonly stats = {
    samplesIn: 0,
    /** Samples read again after a restore, to rebuild the buffer: taken in by the process before. */
    samplesReplayed: 0,
    eventsIn: 0,
    samplesOut: 0,
    lateDropped: 0,
    lateReemitted: 0,
    mismatched: 0,
    redeliveredSkipped: 0,
  };

  constructor(
    private readonly opts: PartitionCoreOptions,
    readonly engine: CorrelationEngine,
    inputs: number,
  ) {
    this.buffer = new OrderBuffer<Item>(opts);
    this.scanner = new NormBatchScanner((metric) => engine.watches(metric), opts.maxKeys);
    this.fields = new EngineFieldReader(opts.maxKeys);
    this.maxBatch = opts.maxBatchSamples ?? 1000;
    for (let i = 0; i < inputs; i++) {
      this.processed.push(0);
      this.live.push(new Map());
      this.replayUntil.push(0);
      this.deliveries.push({ last: 0, missing: 0, sinceMs: 0 });
      this.recent.push(new RecentSeqs(RECENT_SEQS));
    }
  }

  /** Decodes one message and buffers its items (or sends them late). */
  ingest(msg: InputMessage, data: Uint8Array, nowMs: number): IngestResult {
    const replaying = msg.seq <= (this.replayUntil[msg.input] ?? 0);
    if (msg.seq >= (this.replayUntil[msg.input] ?? 0)) this.replayOpen.delete(msg.input);
    this.lastInputWallMs = nowMs;
    this.backlog[msg.input] = msg.pending ?? 0;
    // every delivery counts, a skipped one too: the gap detection follows the consumer's delivery sequence
    this.trackDeliveries(msg, nowMs);
    const recent = this.recent[msg.input] as RecentSeqs;
    if (!replaying && recent.has(msg.seq)) {
      this.stats.redeliveredSkipped++;
      return { kind: 'redelivered', items: 0 };
    }
    recent.add(msg.seq);
    let items: Item[] | undefined;
    try {
      items = this.decode(msg, data, replaying);
    } catch (err) {
      const message = (err as Error).message;
      if (!DECODE_ERROR.test(message)) throw err;
      // a replayed poison message was dead-lettered before the checkpoint: skip it quietly
      return replaying ? { kind: 'replayed', items: 0 } : { kind: 'poison', code: 'decode-error', message };
    }
    if (items === undefined)
      return {
        kind: 'poison',
        code: 'contract-violation',
        message: `unknown ce-type '${msg.type}' on ${msg.subject}`,
      };
    const live = this.live[msg.input] as Map<number, number>;
    let buffered = 0;
    const late: RawSample[] = [];
    const reemit: RawSample[] = [];
    for (const item of items) {
      if (replaying) {
        if (!this.buffer.replay(item, nowMs)) buffered++;
        continue;
      }
      const r = this.buffer.push(item, nowMs);
      if (r === 'buffered') buffered++;
      else if (item.kind === 'sample' && r === 'late') late.push(item);
      else if (item.kind === 'sample' && r === 'late-accepted') reemit.push(item.withFlag('late'));
    }
    if (buffered > 0) live.set(msg.seq, (live.get(msg.seq) ?? 0) + buffered);
    if (msg.seq > (this.processed[msg.input] ?? 0)) this.processed[msg.input] = msg.seq;
    if (late.length > 0) {
      this.stats.lateDropped += late.length;
      this.outputs.late.push({
        subject: lateSubject(items[0]!.ctx.out),
        id: `late:norm:${msg.seq}`,
        items: late,
        sources: [msg.trace],
      });
    }
    if (reemit.length > 0) {
      this.stats.lateReemitted += reemit.length;
      this.stats.samplesOut += reemit.length;
      this.outputs.ordered.push({
        subject: items[0]!.ctx.out,
        id: `ordlate:norm:${msg.seq}`,
        items: reemit,
        sources: [msg.trace],
      });
    }
    return replaying ? { kind: 'replayed', items: items.length } : { kind: 'ok', items: items.length };
  }

  /**
   * What waits in the stream for `input`, learnt outside its messages: 0 after a pull that came back empty,
   * Infinity while unknown (a pull failed), the consumer's num_pending once asked. While it is above 0 the
   * input counts as behind and its sources cannot go idle: a reader that cannot pull must not let the
   * watermark pass what waits for it.
   */
  setBacklog(input: number, pending: number): void {
    this.backlog[input] = pending;
  }

  /** Releases what the watermark passed, feeds it to the engine, and returns everything to publish. */
  flush(nowMs: number): Outputs {
    // the restored watermark must not move before the replay has put the checkpoint's buffer back: what it
    // passed would be skipped as already released. An input silent for idleTimeoutMs has nothing to replay.
    if (this.replayOpen.size > 0 && nowMs - this.lastInputWallMs >= this.opts.idleTimeoutMs)
      this.replayOpen.clear();
    const behind = this.backlog.some((n) => n > 0);
    const slots =
      this.replayOpen.size > 0 || this.waitingForRedelivery(nowMs) ? [] : this.buffer.drain(nowMs, behind);
    for (const slot of slots) {
      const samples = new Map<string, RawSample[]>();
      const events = new Map<string, busway.v1.IEvent[]>();
      const sources = new Map<string, Set<Provenance | undefined>>();
      for (const item of slot.items) {
        const { out, trace } = item.ctx;
        addSource(sources, out, trace);
        if (item.kind === 'sample') {
          append(samples, out, item);
          // decoded only when the engine watches its metric: most samples leave as the bytes they came in
          if (item.watched)
            for (const inc of this.engine.onSample(item.engineView(this.fields), item.t))
              this.outputs.incidents.push(inc);
        } else {
          append(events, out, item.event);
          for (const inc of this.engine.onEvent(item.event, item.t)) this.outputs.incidents.push(inc);
        }
      }
      this.release(slot.items);
      for (const [subject, list] of samples) {
        this.stats.samplesOut += list.length;
        for (let i = 0; i * this.maxBatch < list.length; i++) {
          const items = list.slice(i * this.maxBatch, (i + 1) * this.maxBatch);
          this.outputs.ordered.push({
            subject,
            id: `ord:${subject}:${slot.startMs}:${digest(items)}`,
            items,
            sources: [...(sources.get(subject) ?? [])],
          });
        }
      }
      for (const [subject, list] of events)
        this.outputs.events.push({
          subject,
          id: `ord:${subject}:${slot.startMs}`,
          items: list,
          sources: [...(sources.get(subject) ?? [])],
        });
    }
    if (Number.isFinite(this.buffer.emittedWatermarkMs))
      for (const inc of this.engine.advance(this.buffer.emittedWatermarkMs)) this.outputs.incidents.push(inc);
    const out = this.outputs;
    this.outputs = { ordered: [], events: [], late: [], incidents: [] };
    return out;
  }

  /** Whether a checkpoint may be taken now: not while lost deliveries are outstanding (their input is unknown). */
  checkpointable(nowMs: number): boolean {
    return !this.waitingForRedelivery(nowMs);
  }

  checkpoint(wallMs: number): Checkpoint {
    return {
      version: 1,
      partition: this.opts.partition,
      inputs: this.processed.map((processedSeq, i) => {
        let low = processedSeq + 1;
        for (const seq of (this.live[i] as Map<number, number>).keys()) if (seq < low) low = seq;
        return { processedSeq, replayFrom: low };
      }),
      buffer: this.buffer.snapshot(),
      engine: this.engine.snapshot(),
      wallMs,
    };
  }

  /** Restores a checkpoint: messages up to each input's processedSeq will be replayed, not processed anew. */
  restore(c: Checkpoint, nowMs: number): void {
    this.buffer.restore(c.buffer, nowMs);
    this.engine.restore(c.engine);
    c.inputs.forEach((p, i) => {
      this.processed[i] = p.processedSeq;
      this.replayUntil[i] = p.processedSeq;
      if (p.replayFrom <= p.processedSeq) this.replayOpen.add(i);
    });
    this.lastInputWallMs = nowMs;
  }

  /**
   * A gap in the consumer's delivery sequence means a pull failed after the server sent those messages: they
   * come back as redeliveries once their ack wait ends, older than what follows them. Until they do (or three
   * ack waits passed) the watermark stays, so they are not late, and no checkpoint is taken.
   */
  private trackDeliveries(msg: InputMessage, nowMs: number): void {
    const d = this.deliveries[msg.input];
    if (!d || msg.delivery === undefined) return;
    if (msg.redelivered && d.missing > 0) d.missing--;
    if (d.last > 0 && msg.delivery > d.last + 1) {
      d.missing += msg.delivery - d.last - 1;
      d.sinceMs = nowMs;
    }
    if (msg.delivery > d.last) d.last = msg.delivery;
  }

  private waitingForRedelivery(nowMs: number): boolean {
    for (const d of this.deliveries) {
      if (d.missing > 0 && nowMs - d.sinceMs > 3 * (this.opts.ackWaitMs ?? 30_000)) d.missing = 0;
      if (d.missing > 0) return true;
    }
    return false;
  }

  private release(items: Item[]): void {
    for (const item of items) {
      const { input, msgSeq } = item.ctx;
      const live = this.live[input] as Map<number, number>;
      const left = (live.get(msgSeq) ?? 1) - 1;
      if (left <= 0) live.delete(msgSeq);
      else live.set(msgSeq, left);
    }
  }

  private decode(msg: InputMessage, data: Uint8Array, replaying: boolean): Item[] | undefined {
    if (msg.type === EventTypes.SampleBatch) {
      const { out, mismatched, memo } = this.routeOf(msg.subject);
      if (mismatched) this.stats.mismatched++;
      const ctx = contextOf(msg, out);
      const samples = this.scanner.scan(data, (f) => new SampleItem(f, ctx), memo);
      if (replaying) this.stats.samplesReplayed += samples.length;
      else this.stats.samplesIn += samples.length;
      return samples;
    }
    if (msg.type === EventTypes.EventBatch) {
      const out = msg.subject.replace(/^norm\.v1\.events\./, 'ordered.v1.events.');
      const events = busway.v1.EventBatch.decode(data).events;
      if (!replaying) this.stats.eventsIn += events.length;
      const ctx = contextOf(msg, out);
      return events.map((event) => ({
        kind: 'event' as const,
        event,
        t: msFromTimeNs(event.eventTimeNs),
        key: `event|${event.id ?? ''}`,
        seq: 0,
        source: msg.subject,
        sparse: true,
        ctx,
      }));
    }
    return undefined;
  }

  // the server's mapping must agree with ours, or another replica's racks land here
  private isMismatched(tokens: string[], suffix: number): boolean {
    const expected = partitionOf(tokens, this.opts.partitionCount, this.opts.partitionBy);
    return suffix !== expected || (this.opts.partitionCount > 1 && suffix !== this.opts.partition);
  }

  /** A NORM sample subject's ORDERED subject and partition check, worked out once per subject (one per rack). */
  private routeOf(subject: string): Route {
    let route = this.routes.get(subject);
    if (route) return route;
    const parsed = parseNormSubject(subject);
    const [site = '_', hall = '_', row = '_', rack = '_'] = parsed?.tokens ?? [];
    route = {
      out: Subjects.orderedSamples(site, hall, row, rack),
      mismatched: parsed?.partition !== undefined && this.isMismatched(parsed.tokens, parsed.partition),
      memo: new PositionMemo(),
    };
    if (this.routes.size >= MAX_ROUTES) this.routes.clear();
    this.routes.set(subject, route);
    return route;
  }
}

function contextOf(msg: InputMessage, out: string): MessageContext {
  return { source: msg.subject, input: msg.input, msgSeq: msg.seq, out, trace: msg.trace };
}

/**
 * A short digest of a batch's sample identities: a replay that forms the same batch gets the same id (the
 * stream drops it); one that forms a different batch (a sample late before the crash fits after it) gets
 * another, so nothing is lost.
 */
function digest(samples: RawSample[]): string {
  let h = 0x811c9dc5;
  const mix = (x: number) => {
    h = Math.imul(h ^ (x | 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ ((x / 4294967296) | 0), 0x01000193) >>> 0;
  };
  for (const s of samples) {
    mix(s.timeLow);
    mix(s.seq);
    mix(s.seqHigh);
    mix(s.key.length);
  }
  return `${samples.length}-${h.toString(36)}`;
}

// one entry per input batch (items share their batch's Provenance object), not per item
function addSource(m: Map<string, Set<Provenance | undefined>>, k: string, p: Provenance | undefined): void {
  const set = m.get(k);
  if (set) set.add(p);
  else m.set(k, new Set([p]));
}

function append<T>(m: Map<string, T[]>, k: string, v: T): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function lateSubject(ordered: string): string {
  const [site = '_', hall = '_', row = '_', rack = '_'] = ordered.split('.').slice(3);
  return Subjects.orderedLate(site, hall, row, rack);
}
