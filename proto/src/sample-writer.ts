import Long from 'long';
import { busway } from '../gen/busway.js';

type ISample = busway.v1.ISample;

/** Strings remembered with their UTF-8 bytes; past this many the cache starts over. */
const MAX_CACHED_STRINGS = 100_000;
/** A lone surrogate: protobufjs encodes it its own way, so a sample holding one goes to the generated encoder. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Thrown inside the writer when a sample is not in the plain form it writes; the generated encoder takes it. */
class NotPlain extends Error {}
const notPlain = new NotPlain();

/**
 * Encodes SampleBatches to the same bytes as the generated encoder, without its per-field writer operations:
 * the UTF-8 bytes of repeated strings (point ids, units, flags) are kept, and each sample is written straight
 * into one buffer. A sample with a nested message (path, source), unknown fields or values of unusual types
 * is encoded by the generated encoder and copied in. Bridges encode one batch per source message, so this is
 * on their hot path.
 */
export class SampleBatchWriter {
  private readonly strings = new Map<string, Buffer>();
  private buf = Buffer.allocUnsafe(1 << 16);
  private pos = 0;

  encode(batch: busway.v1.ISampleBatch): Uint8Array {
    if (batch.$unknowns != null) return busway.v1.SampleBatch.encode(batch).finish();
    this.pos = 0;
    for (const s of batch.samples ?? []) this.sample(s);
    if (batch.source != null && Object.hasOwn(batch, 'source')) {
      this.bytesField(0x12, busway.v1.SourceRef.encode(batch.source).finish());
    }
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }

  private sample(s: ISample): void {
    const start = this.pos;
    try {
      this.plainSample(s);
    } catch (err) {
      if (!(err instanceof NotPlain)) throw err;
      this.pos = start;
      this.bytesField(0x0a, busway.v1.Sample.encode(s).finish());
    }
  }

  /** The sample's fields in field-number order, with the generated encoder's rules for what is written. */
  private plainSample(s: ISample): void {
    if (s.path != null || s.source != null || s.$unknowns != null) throw notPlain;
    const proto = Object.getPrototypeOf(s);
    if (proto !== Object.prototype && proto !== busway.v1.Sample.prototype) throw notPlain;
    this.ensure(6);
    this.buf[this.pos++] = 0x0a;
    // two bytes kept for the length (up to 16 KiB); moved once the length is known
    const lengthAt = this.pos;
    this.pos += 2;
    if (s.pointId != null && s.pointId !== '') this.cachedString(0x0a, s.pointId);
    if (s.metric != null && s.metric !== '') this.cachedString(0x1a, s.metric);
    if (s.doubleValue != null) this.double(0x21, s.doubleValue);
    if (s.intValue != null) {
      const [lo, hi] = bitsOf(s.intValue);
      const mask = hi >> 31; // zigzag, as sint64
      this.varint64(0x28, ((lo << 1) ^ mask) >>> 0, (((hi << 1) | (lo >>> 31)) ^ mask) >>> 0);
    }
    if (s.boolValue != null) this.small(0x30, s.boolValue ? 1 : 0);
    if (s.stringValue != null) this.string(0x3a, s.stringValue);
    if (s.unit != null && s.unit !== '') this.cachedString(0x42, s.unit);
    if (s.eventTimeNs != null) this.fixed64(0x49, s.eventTimeNs);
    if (s.clockSource != null && s.clockSource !== 0) this.uint(0x50, s.clockSource, 0x7fffffff);
    if (s.clockQuality != null && s.clockQuality !== 0) this.uint(0x58, s.clockQuality, 0xffffffff);
    if (s.ingestTimeNs != null) this.fixed64(0x61, s.ingestTimeNs);
    if (s.quality != null && s.quality !== 0) this.uint(0x68, s.quality, 0x7fffffff);
    if (s.sequence != null) {
      const [lo, hi] = bitsOf(s.sequence);
      if (lo !== 0 || hi !== 0) this.varint64(0x78, lo >>> 0, hi >>> 0);
    }
    if (s.unregistered != null && s.unregistered !== false) {
      this.ensure(3);
      this.buf[this.pos++] = 0x80;
      this.buf[this.pos++] = 0x01;
      this.buf[this.pos++] = s.unregistered ? 1 : 0;
    }
    if (s.flags != null && s.flags.length) {
      if (!Array.isArray(s.flags)) throw notPlain;
      for (const flag of s.flags) this.cachedString(0x018a, flag);
    }
    this.closeLength(lengthAt);
  }

  /** Writes the sample's length into its two kept bytes, moving the sample when it needs one or three more. */
  private closeLength(at: number): void {
    const length = this.pos - at - 2;
    const size = varintSize(length);
    if (size !== 2) {
      this.ensure(size);
      this.buf.copyWithin(at + size, at + 2, this.pos);
      this.pos += size - 2;
    }
    let v = length;
    let p = at;
    while (v > 127) {
      this.buf[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buf[p] = v;
  }

  private cachedString(tag: number, value: unknown): void {
    if (typeof value !== 'string') throw notPlain;
    let bytes = this.strings.get(value);
    if (bytes === undefined) {
      if (LONE_SURROGATE.test(value)) throw notPlain;
      bytes = Buffer.from(value, 'utf8');
      if (this.strings.size >= MAX_CACHED_STRINGS) this.strings.clear();
      this.strings.set(value, bytes);
    }
    this.tag(tag);
    this.bytesBody(bytes);
  }

  private string(tag: number, value: unknown): void {
    if (typeof value !== 'string' || LONE_SURROGATE.test(value)) throw notPlain;
    const n = Buffer.byteLength(value, 'utf8');
    this.tag(tag);
    this.ensure(n + 5);
    this.varint(n);
    this.pos += this.buf.write(value, this.pos, 'utf8');
  }

  private bytesField(tag: number, bytes: Uint8Array): void {
    this.tag(tag);
    this.bytesBody(bytes);
  }

  private bytesBody(bytes: Uint8Array): void {
    this.ensure(bytes.length + 5);
    this.varint(bytes.length);
    const b = this.buf;
    // a loop beats TypedArray.set for the short strings samples carry
    if (bytes.length < 64) {
      let p = this.pos;
      for (let i = 0; i < bytes.length; i++) b[p++] = bytes[i] as number;
      this.pos = p;
    } else {
      b.set(bytes, this.pos);
      this.pos += bytes.length;
    }
  }

  private double(tag: number, value: unknown): void {
    if (typeof value !== 'number') throw notPlain;
    this.tag(tag);
    this.ensure(8);
    this.pos = this.buf.writeDoubleLE(value, this.pos);
  }

  private fixed64(tag: number, value: unknown): void {
    const [lo, hi] = bitsOf(value);
    if (lo === 0 && hi === 0) return; // zero is the default: not written
    this.tag(tag);
    this.ensure(8);
    const b = this.buf;
    b[this.pos++] = lo & 0xff;
    b[this.pos++] = (lo >>> 8) & 0xff;
    b[this.pos++] = (lo >>> 16) & 0xff;
    b[this.pos++] = lo >>> 24;
    b[this.pos++] = hi & 0xff;
    b[this.pos++] = (hi >>> 8) & 0xff;
    b[this.pos++] = (hi >>> 16) & 0xff;
    b[this.pos++] = hi >>> 24;
  }

  /** An enum or uint32 in its plain range (a negative enum takes ten bytes: the generated encoder writes it). */
  private uint(tag: number, value: unknown, max: number): void {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) throw notPlain;
    this.tag(tag);
    this.ensure(5);
    this.varint(value);
  }

  private small(tag: number, value: 0 | 1): void {
    this.tag(tag);
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  private varint64(tag: number, lo: number, hi: number): void {
    this.tag(tag);
    this.ensure(10);
    const b = this.buf;
    while (hi) {
      b[this.pos++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 127) {
      b[this.pos++] = (lo & 127) | 128;
      lo >>>= 7;
    }
    b[this.pos++] = lo;
  }

  /** A tag of one byte, or two (fields 16 and up) given as 0x<second><first>. */
  private tag(tag: number): void {
    this.ensure(2);
    if (tag > 0xff) {
      this.buf[this.pos++] = tag & 0xff;
      this.buf[this.pos++] = tag >>> 8;
    } else this.buf[this.pos++] = tag;
  }

  private varint(v: number): void {
    while (v > 127) {
      this.buf[this.pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}

/** The two 32-bit halves of a 64-bit field given as a Long or a safe integer; anything else is not plain. */
function bitsOf(value: unknown): [number, number] {
  if (Long.isLong(value)) return [value.low, value.high];
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    const l = Long.fromNumber(value);
    return [l.low, l.high];
  }
  throw notPlain;
}

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}
