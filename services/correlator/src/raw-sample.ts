// NORM samples kept as the bytes they came in: ordering reads four fields, the engine decodes only what it watches.
import {
  busway,
  Long,
  msFromNsBits,
  msFromTimeNs,
  NotPlain,
  notPlain,
  ProtoWriter,
  SAMPLE_STRING_FIELDS,
  SAMPLE_WIRE_TYPES,
  SampleField,
  SampleWireReader,
  WireReader,
  WireType,
} from '@busway/proto';

/** Field 17 (`flags`, length-delimited): appended to a message's bytes, one more entry of the list. */
const FLAGS_TAG = [0x8a, 0x01];

/** What a scan read of one sample: the fields a RawSample keeps. */
export interface SampleFields {
  /** The batch the sample came in, and the sample's bytes' place in it. */
  data: Buffer;
  start: number;
  end: number;
  /** The point id: one string per point (interned), not one per sample. */
  key: string;
  /** Whether the engine watches its metric (else `sample` is never needed for it). */
  watched: boolean;
  /** Event time in ms since the epoch, as `msFromTimeNs` reads it. */
  t: number;
  /** The event time's low 32 bits, for batch digests. */
  timeLow: number;
  /** The sequence's halves (uint64 exact). */
  seq: number;
  seqHigh: number;
  decoded?: busway.v1.ISample;
}

/**
 * One sample of a NORM batch: where its bytes are in the batch (published again unchanged), and what ordering
 * needs of them. Kept lean, for many wait in the buffer: no view of the bytes, and no metric name, only whether
 * the engine watches it.
 */
export class RawSample {
  readonly data: Buffer;
  readonly start: number;
  readonly end: number;
  readonly key: string;
  readonly watched: boolean;
  readonly t: number;
  readonly timeLow: number;
  readonly seq: number;
  readonly seqHigh: number;
  private decoded?: busway.v1.ISample;

  constructor(f: SampleFields) {
    this.data = f.data;
    this.start = f.start;
    this.end = f.end;
    this.key = f.key;
    this.watched = f.watched;
    this.t = f.t;
    this.timeLow = f.timeLow;
    this.seq = f.seq;
    this.seqHigh = f.seqHigh;
    this.decoded = f.decoded;
  }

  /** The Sample message's bytes. */
  get bytes(): Uint8Array {
    return this.data.subarray(this.start, this.end);
  }

  /** The whole sample, decoded on first use. */
  get sample(): busway.v1.ISample {
    return (this.decoded ??= busway.v1.Sample.decode(this.bytes));
  }

  /** What the engine reads of a sample (metric, asset and its class, a numeric value), read from the bytes. */
  engineView(reader: EngineFieldReader): busway.v1.ISample {
    return this.decoded ?? reader.read(this.data, this.start, this.end) ?? this.sample;
  }

  /** The same sample with one more (ASCII) flag: a repeated field's entry appended to the bytes. */
  withFlag(flag: string): RawSample {
    const n = this.end - this.start;
    const data = Buffer.allocUnsafe(n + FLAGS_TAG.length + 1 + flag.length);
    this.data.copy(data, 0, this.start, this.end);
    let p = n;
    for (const b of FLAGS_TAG) data[p++] = b;
    data[p++] = flag.length;
    for (let i = 0; i < flag.length; i++) data[p++] = flag.charCodeAt(i);
    const decoded = this.decoded && { ...this.decoded, flags: [...(this.decoded.flags ?? []), flag] };
    return new RawSample({ ...this.fields(), data, start: 0, end: data.length, decoded });
  }

  private fields(): SampleFields {
    const { data, start, end, key, watched, t, timeLow, seq, seqHigh } = this;
    return { data, start, end, key, watched, t, timeLow, seq, seqHigh };
  }
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
  private metric = '';
  private timeHi = 0;

  constructor(
    /** Whether the engine reads samples of a metric. */
    private readonly watches: (metric: string) => boolean,
    /** Point ids kept for interning (the order buffer's `maxKeys`); past this many the table starts over. */
    private readonly maxIds = 200_000,
  ) {
    super();
  }

  /** What `make` turns each sample of the batch into, in order; none until the whole batch is read. */
  scan<T>(data: Uint8Array, make: (f: SampleFields) => T): T[] {
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
        this.sample(this.pos, this.pos + n);
        out.push(make(this.f));
      } else if (tag === 0x12) this.sourceRef(this.pos + n);
      else throw notPlain; // samples (1) and source (2) only: anything else is the generated decoder's
    }
    return out;
  }

  private sample(start: number, end: number): void {
    const f = this.f;
    f.data = this.buf;
    f.start = start;
    f.end = end;
    f.key = '';
    f.timeLow = this.timeHi = f.seq = f.seqHigh = 0;
    this.metric = '';
    let seen = 0;
    while (this.pos < end) {
      const tag = this.varint32();
      const number = tag >>> 3;
      if (number >= SAMPLE_WIRE_TYPES.length) {
        this.skip(tag & 7); // a field of a newer schema: passed on as it is
        continue;
      }
      // the schema's fields with their own wire types, each once (flags may repeat): else the generated decoder
      if (SAMPLE_WIRE_TYPES[number] !== (tag & 7) || (seen & (1 << number) && number !== SampleField.Flags))
        throw notPlain;
      seen |= 1 << number;
      if (number === SampleField.PointId) f.key = this.id();
      else if (number === SampleField.Metric) this.metric = this.ascii();
      else if (number === SampleField.EventTime) {
        this.fixed64();
        f.timeLow = this.lo | 0;
        this.timeHi = this.hi;
      } else if (number === SampleField.Sequence) {
        this.varint64();
        f.seq = this.lo;
        f.seqHigh = this.hi;
      } else if (number === SampleField.Path || number === SampleField.Source) {
        const n = this.length();
        if (number === SampleField.Path) this.unsPath(this.pos + n);
        else this.sourceRef(this.pos + n);
      } else if (SAMPLE_STRING_FIELDS.has(number)) this.asciiString();
      else this.skip(tag & 7);
    }
    if (this.pos !== end) throw notPlain;
    f.t = f.timeLow === 0 && this.timeHi === 0 ? 0 : msFromNsBits(f.timeLow, this.timeHi);
    f.watched = this.watches(this.metric);
  }

  /** The point id, as the string already kept for it: buffered samples share one string per point. */
  private id(): string {
    const read = this.ascii();
    const known = this.ids.get(read);
    if (known !== undefined) return known;
    if (this.ids.size >= this.maxIds) this.ids.clear();
    this.ids.set(read, read);
    return read;
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

/**
 * Reads the fields the engine uses from a Sample's bytes, as the generated decoder would read them (a nested
 * path that comes twice replaces the first, as there); undefined for any other form: the caller decodes.
 */
export class EngineFieldReader extends WireReader {
  read(data: Buffer, start: number, end: number): busway.v1.ISample | undefined {
    this.buf = data;
    this.pos = start;
    const s: busway.v1.ISample = {};
    try {
      while (this.pos < end) {
        const tag = this.varint32();
        const number = tag >>> 3;
        if (number >= SAMPLE_WIRE_TYPES.length) this.skip(tag & 7);
        else if (SAMPLE_WIRE_TYPES[number] !== (tag & 7)) return undefined;
        else if (number === SampleField.Path) {
          const n = this.length();
          s.path = this.path(this.pos + n);
        } else if (number === SampleField.Metric) s.metric = this.ascii();
        else if (number >= SampleField.DoubleValue && number <= SampleField.StringValue) {
          // a oneof: the last value field read is the value, the others are cleared
          delete s.doubleValue;
          delete s.intValue;
          if (number === SampleField.DoubleValue) s.doubleValue = this.double();
          else if (number === SampleField.IntValue) s.intValue = this.zigzag();
          else this.skip(tag & 7); // bool and string values: not numbers the engine reads
        } else this.skip(tag & 7);
      }
      return this.pos === end ? s : undefined;
    } catch (err) {
      if (err instanceof NotPlain) return undefined;
      throw err;
    }
  }

  /** An UnsPath's asset and class; its other strings skipped. */
  private path(end: number): busway.v1.IUnsPath {
    const p: busway.v1.IUnsPath = {};
    while (this.pos < end) {
      const tag = this.varint32();
      const number = tag >>> 3;
      if (number < 1 || number > 6 || (tag & 7) !== WireType.Len) throw notPlain;
      if (number === 5) p.assetClass = this.ascii();
      else if (number === 6) p.asset = this.ascii();
      else this.asciiString();
    }
    if (this.pos !== end) throw notPlain;
    return p;
  }

  private double(): number {
    if (this.pos + 8 > this.buf.length) throw notPlain;
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A sint64: zigzag-decoded as protobufjs does. */
  private zigzag(): Long {
    this.varint64();
    const mask = -(this.lo & 1);
    return Long.fromBits(((this.lo >>> 1) | (this.hi << 31)) ^ mask, (this.hi >>> 1) ^ mask);
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

/** SampleBatch bytes of samples kept as bytes: each one's bytes as they came, into reused slabs. */
export class RawBatchWriter extends ProtoWriter {
  write(samples: readonly RawSample[]): Buffer {
    this.begin();
    for (const s of samples) {
      const n = s.end - s.start;
      this.tag(0x0a);
      this.ensure(5 + n);
      this.varint(n);
      s.data.copy(this.buf, this.pos, s.start, s.end); // no view made per sample
      this.pos += n;
    }
    return this.written();
  }
}
