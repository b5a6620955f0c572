import {
  bigIntFromTimeNs,
  busway,
  NotPlain,
  notPlain,
  SampleField,
  SampleWireReader,
  unsSubject,
} from '@busway/proto';

/** One sample of an ORDERED batch: its bytes as they came, and what fan-out routes and orders it by. */
export interface WireSample {
  /** The whole `samples` field (tag, length, Sample): a UNS message is such fields back to back. */
  readonly field: Uint8Array;
  readonly subject: string;
  readonly timeNs: bigint;
  /** The sample decoded, once asked for (decodeWireSample): a group's message id and last value share it. */
  decoded?: busway.v1.Sample;
}

export interface ScannedBatch {
  samples: WireSample[];
  /** Samples with no path or no metric: they have no UNS subject (never the case after the normalizer). */
  withoutSubject: number;
}

/** Subjects remembered by the bytes of a sample's path and metric; past this many the map starts over. */
const MAX_SUBJECTS = 100_000;

const { Path: PATH, Metric: METRIC, EventTime: EVENT_TIME } = SampleField;

/**
 * Reads a SampleBatch without decoding its samples into objects: each sample keeps its bytes, so fan-out
 * writes UNS messages by copying them (fields it does not know pass through unchanged), and its subject
 * comes from a map keyed by the bytes of its path and metric. Only what the generated decoder reads the same
 * way is read here; anything else (a field twice, a wire type the schema does not give it, a group) sends
 * that sample, or the whole batch, through the generated decoder, which also throws on what is malformed.
 */
export class SampleBatchScanner extends SampleWireReader {
  private readonly subjects = new Map<string, string>();

  /**
   * The batch's samples that have a path and a metric, in order, and how many have not (no UNS subject).
   * Throws on a malformed batch.
   */
  scan(data: Uint8Array): ScannedBatch {
    this.reset(data);
    const out: WireSample[] = [];
    let count = 0;
    try {
      while (this.pos < this.buf.length) {
        const fieldStart = this.pos;
        const tag = this.varint32();
        // samples (1) and source (2), length-delimited; anything else is for the generated decoder
        if (tag === 0x0a) {
          const length = this.length();
          const sample = this.sample(fieldStart, this.pos, this.pos + length);
          this.pos += length;
          count++;
          if (sample) out.push(sample);
        } else if (tag === 0x12) {
          const length = this.length();
          this.sourceRef(this.pos + length);
        } else throw notPlain;
      }
      return { samples: out, withoutSubject: count - out.length };
    } catch (err) {
      if (err instanceof NotPlain) return slowScan(data);
      throw err;
    }
  }

  private sample(fieldStart: number, start: number, end: number): WireSample | undefined {
    const b = this.buf;
    const batchPos = this.pos;
    this.pos = start;
    let seen = 0;
    let path = -1;
    let metric = -1;
    let metricLength = 0;
    let lo = 0;
    let hi = 0;
    try {
      while (this.pos < end) {
        const tagAt = this.pos;
        const tag = this.varint32();
        const next = this.sampleField(tag, seen);
        if (next < 0) continue;
        seen = next;
        const number = tag >>> 3;
        if (number === PATH) {
          path = tagAt;
          this.advance(this.length());
        } else if (number === METRIC) {
          metric = tagAt;
          metricLength = this.asciiString();
        } else if (number === EVENT_TIME) {
          this.advance(8);
          lo = b.readUInt32LE(this.pos - 8);
          hi = b.readUInt32LE(this.pos - 4);
        } else this.otherSampleField(tag);
      }
      if (this.pos !== end) throw notPlain;
    } catch (err) {
      if (!(err instanceof NotPlain)) throw err;
      this.pos = batchPos;
      return slowSample(b.subarray(start, end));
    }
    // the key: the bytes of the path and metric fields, when one follows the other as an encoder writes them;
    // without both (no UNS subject) or apart, the generated decoder reads the sample
    const key = path >= 0 && metric > path && metricLength > 0 ? this.keyOf(path, metric) : undefined;
    this.pos = batchPos;
    if (key === undefined) return slowSample(b.subarray(start, end));
    const field = b.subarray(fieldStart, end);
    const timeNs = (BigInt(hi) << 32n) | BigInt(lo);
    let subject = this.subjects.get(key);
    if (subject === undefined) {
      const s = busway.v1.Sample.decode(b.subarray(start, end));
      subject = unsSubject(s.path ?? {}, s.metric);
      if (this.subjects.size >= MAX_SUBJECTS) this.subjects.clear();
      this.subjects.set(key, subject);
    }
    return { field, subject, timeNs, decoded: undefined };
  }

  /** The bytes from the path field to the end of the metric field, when nothing lies between them. */
  private keyOf(path: number, metric: number): string | undefined {
    this.pos = path + 1; // both tags are one byte
    const pathEnd = this.length() + this.pos;
    if (pathEnd !== metric) return undefined;
    this.pos = metric + 1;
    const metricEnd = this.length() + this.pos;
    return this.buf.toString('latin1', path, metricEnd);
  }
}

/** The generated decoder's reading of one sample; its field is re-encoded in canonical form. */
function slowSample(content: Uint8Array): WireSample | undefined {
  return wireSampleOf(busway.v1.Sample.decode(content));
}

/** The generated decoder's reading of a whole batch (it throws on what is malformed). */
function slowScan(data: Uint8Array): ScannedBatch {
  const decoded = busway.v1.SampleBatch.decode(data).samples;
  const samples = decoded.flatMap((s) => wireSampleOf(s) ?? []);
  return { samples, withoutSubject: decoded.length - samples.length };
}

/** A decoded sample as a WireSample; undefined when it has no path or metric (no UNS subject). */
export function wireSampleOf(s: busway.v1.ISample): WireSample | undefined {
  if (!s.path || !s.metric) return undefined;
  return {
    field: busway.v1.SampleBatch.encode({ samples: [s] }).finish(),
    subject: unsSubject(s.path, s.metric),
    timeNs: bigIntFromTimeNs(s.eventTimeNs),
    decoded: undefined,
  };
}

/** A UNS message's payload: the samples' fields back to back, which is a SampleBatch. */
export function sampleBatchOf(samples: readonly WireSample[]): Uint8Array {
  if (samples.length === 1) return (samples[0] as WireSample).field;
  return Buffer.concat(samples.map((s) => s.field));
}

/** The sample a WireSample holds, decoded once. */
export function decodeWireSample(s: WireSample): busway.v1.Sample {
  s.decoded ??= busway.v1.SampleBatch.decode(s.field).samples[0] as busway.v1.Sample;
  return s.decoded;
}
