// NORM samples kept as the bytes they came in, and written back as they came.
import { busway, ProtoWriter } from '@busway/proto';
import type { EngineFieldReader } from './engine-fields.js';

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
    return this.decoded ?? reader.read(this.data, this.start, this.end, this.key) ?? this.sample;
  }

  /** The same sample with one more short ASCII flag: a repeated field's entry appended to the bytes. */
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
