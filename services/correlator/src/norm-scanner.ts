// The correlator's reading of a NORM SampleBatch: each sample's place in the bytes and the fields ordering needs.
import {
  busway,
  Long,
  msFromNsBits,
  msFromTimeNs,
  NotPlain,
  notPlain,
  SampleField,
  SampleWireReader,
} from '@busway/proto';
import type { SampleFields } from './raw-sample.js';

/** Memoized positions per subject at most: a bigger batch's later samples are read without the memo. */
const MEMO_POSITIONS = 1024;

/**
 * What one subject's last batch held at each position: point id, metric, and whether the engine watches it. A
 * subject's batches come from one asset's readings, the same points in the same order, so the scan compares
 * the bytes with these strings instead of making new ones.
 */
export class PositionMemo {
  readonly ids: string[] = [];
  readonly metrics: string[] = [];
  readonly watched: boolean[] = [];
}

/**
 * Splits a SampleBatch into its samples' bytes, reading only point id, metric, event time and sequence, exactly
 * as the generated decoder would. Bytes in any other form (a non-ASCII id, a field of an unexpected wire type,
 * a group, truncation) go to the generated decoder, which decides, and throws on what is malformed.
 */
export class NormBatchScanner extends SampleWireReader {
  private readonly ids = new Map<string, string>();
  /** One cursor for every sample: `make` copies what it keeps. */
  private readonly f: SampleFields = {
    data: this.buf,
    start: 0,
    end: 0,
    key: '',
    watched: false,
    t: 0,
    timeLow: 0,
    seq: 0,
    seqHigh: 0,
  };
  private timeHi = 0;
  private memo = new PositionMemo();

  constructor(
    /** Whether the engine reads samples of a metric. */
    private readonly watches: (metric: string) => boolean,
    /** Point ids kept for interning (the order buffer's `maxKeys`); past this many the table starts over. */
    private readonly maxIds = 200_000,
  ) {
    super();
  }

  /**
   * What `make` turns each sample of the batch into, in order; none until the whole batch is read. `memo`: the
   * batch's subject's (see PositionMemo).
   */
  scan<T>(data: Uint8Array, make: (f: SampleFields) => T, memo = new PositionMemo()): T[] {
    this.memo = memo;
    try {
      return this.plain(data, make);
    } catch (err) {
      if (err instanceof NotPlain) return this.generated(data, make);
      throw err;
    }
  }

  private plain<T>(data: Uint8Array, make: (f: SampleFields) => T): T[] {
    this.reset(data);
    const out: T[] = [];
    const b = this.buf;
    while (this.pos < b.length) {
      const tag = this.varint32();
      const n = tag === 0x0a || tag === 0x12 ? this.length() : -1;
      if (tag === 0x0a) {
        this.sample(this.pos, this.pos + n, out.length);
        out.push(make(this.f));
      } else if (tag === 0x12) this.sourceRef(this.pos + n);
      else throw notPlain; // samples (1) and source (2) only: anything else is the generated decoder's
    }
    return out;
  }

  /** The sample between `start` and `end`, the batch's `at`-th, read into `f`. */
  private sample(start: number, end: number, at: number): void {
    const f = this.f;
    const memo = this.memo;
    const i = at < MEMO_POSITIONS ? at : -1;
    let metric = '';
    f.data = this.buf;
    f.start = start;
    f.end = end;
    f.key = '';
    f.timeLow = this.timeHi = f.seq = f.seqHigh = 0;
    let seen = 0;
    while (this.pos < end) {
      const tag = this.varint32();
      const next = this.sampleField(tag, seen);
      if (next < 0) continue;
      seen = next;
      const number = tag >>> 3;
      if (number === SampleField.PointId) f.key = this.id(i);
      else if (number === SampleField.Metric) metric = this.asciiOr(i < 0 ? undefined : memo.metrics[i]);
      else if (number === SampleField.EventTime) {
        this.fixed64();
        f.timeLow = this.lo | 0;
        this.timeHi = this.hi;
      } else if (number === SampleField.Sequence) {
        this.varint64();
        f.seq = this.lo;
        f.seqHigh = this.hi;
      } else this.otherSampleField(tag);
    }
    if (this.pos !== end) throw notPlain;
    f.t = f.timeLow === 0 && this.timeHi === 0 ? 0 : msFromNsBits(f.timeLow, this.timeHi);
    if (i < 0) f.watched = this.watches(metric);
    else if (metric === memo.metrics[i]) f.watched = memo.watched[i] as boolean;
    else {
      f.watched = memo.watched[i] = this.watches(metric);
      memo.metrics[i] = metric;
    }
  }

  /** The point id, as the string already kept for it: buffered samples share one string per point. */
  private id(i: number): string {
    const last = i < 0 ? undefined : this.memo.ids[i];
    const read = this.asciiOr(last);
    if (read === last) return read;
    let known = this.ids.get(read);
    if (known === undefined) {
      if (this.ids.size >= this.maxIds) this.ids.clear();
      this.ids.set(read, read);
      known = read;
    }
    if (i >= 0) this.memo.ids[i] = known;
    return known;
  }

  private fixed64(): void {
    if (this.pos + 8 > this.buf.length) throw notPlain;
    this.lo = this.buf.readUInt32LE(this.pos);
    this.hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
  }

  /** The generated decoder's samples, each encoded again for its bytes: for bytes the scan does not read. */
  private generated<T>(data: Uint8Array, make: (f: SampleFields) => T): T[] {
    return busway.v1.SampleBatch.decode(data).samples.map((s) => {
      const encoded = busway.v1.Sample.encode(s).finish();
      return make({
        data: Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength),
        start: 0,
        end: encoded.byteLength,
        key: s.pointId ?? '',
        watched: this.watches(s.metric ?? ''),
        t: msFromTimeNs(s.eventTimeNs),
        timeLow: Long.fromValue(s.eventTimeNs ?? 0).low,
        seq: seqLow(s.sequence),
        seqHigh: seqHigh(s.sequence),
        decoded: s,
      });
    });
  }
}

/** The low 32 bits of a uint64 sequence: with its high half, exact for every value (a double is not above 2^53). */
function seqLow(seq: busway.v1.ISample['sequence']): number {
  if (seq == null) return 0;
  return typeof seq === 'number' ? seq % 4294967296 : seq.low >>> 0;
}

function seqHigh(seq: busway.v1.ISample['sequence']): number {
  if (seq == null) return 0;
  return typeof seq === 'number' ? Math.floor(seq / 4294967296) : seq.high >>> 0;
}
