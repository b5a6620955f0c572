import Long from 'long';
import { busway } from '../gen/busway.js';

type ISample = busway.v1.ISample;

/** A lone surrogate: protobufjs encodes it its own way, so a sample holding one goes to the generated encoder. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Thrown inside the writer when a sample is not in the plain form it writes; the generated encoder takes it. */
class NotPlain extends Error {}
const notPlain = new NotPlain();

/**
 * Encodes SampleBatches to the same bytes as the generated encoder, without its per-field writer operations
 * (an object per field, then a copy): each sample is written straight into one buffer, ASCII strings a
 * character at a time, and a length is written once what it covers is (moved if it needs more than the bytes
 * kept for it). A sample with unknown fields or values of unusual types is encoded by the generated encoder
 * and copied in. Bridges encode one batch per source message and the correlator one per rack and slot, so this
 * is on their hot paths.
 */
export class SampleBatchWriter {
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
    if (s.$unknowns != null) throw notPlain;
    const proto = Object.getPrototypeOf(s);
    if (proto !== Object.prototype && proto !== busway.v1.Sample.prototype) throw notPlain;
    this.tag(0x0a);
    const lengthAt = this.keepLength(2); // up to 16 KiB without a move
    if (s.pointId != null && s.pointId !== '') this.string(0x0a, s.pointId);
    if (s.path != null) this.path(s.path);
    if (s.metric != null && s.metric !== '') this.string(0x1a, s.metric);
    if (s.doubleValue != null) this.double(0x21, s.doubleValue);
    if (s.intValue != null) {
      const [lo, hi] = bitsOf(s.intValue);
      const mask = hi >> 31; // zigzag, as sint64
      this.varint64(0x28, ((lo << 1) ^ mask) >>> 0, (((hi << 1) | (lo >>> 31)) ^ mask) >>> 0);
    }
    if (s.boolValue != null) this.small(0x30, s.boolValue ? 1 : 0);
    if (s.stringValue != null) this.string(0x3a, s.stringValue);
    if (s.unit != null && s.unit !== '') this.string(0x42, s.unit);
    if (s.eventTimeNs != null) this.fixed64(0x49, s.eventTimeNs);
    if (s.clockSource != null && s.clockSource !== 0) this.uint(0x50, s.clockSource, 0x7fffffff);
    if (s.clockQuality != null && s.clockQuality !== 0) this.uint(0x58, s.clockQuality, 0xffffffff);
    if (s.ingestTimeNs != null) this.fixed64(0x61, s.ingestTimeNs);
    if (s.quality != null && s.quality !== 0) this.uint(0x68, s.quality, 0x7fffffff);
    if (s.source != null) this.source(s.source);
    if (s.sequence != null) {
      const [lo, hi] = bitsOf(s.sequence);
      if (lo !== 0 || hi !== 0) this.varint64(0x78, lo >>> 0, hi >>> 0);
    }
    if (s.unregistered != null && s.unregistered !== false) this.small(0x0180, s.unregistered ? 1 : 0);
    if (s.flags != null && s.flags.length) {
      if (!Array.isArray(s.flags)) throw notPlain;
      for (const flag of s.flags) this.string(0x018a, flag);
    }
    this.closeLength(lengthAt, 2);
  }

  /** UnsPath: its string fields by name (a keyed loop reads them megamorphically, at a third of the cost). */
  private path(m: unknown): void {
    const p = this.openMessage(0x12, m, busway.v1.UnsPath.prototype) as busway.v1.IUnsPath;
    const at = this.keepLength(1);
    if (p.site != null && p.site !== '') this.string(0x0a, p.site);
    if (p.hall != null && p.hall !== '') this.string(0x12, p.hall);
    if (p.row != null && p.row !== '') this.string(0x1a, p.row);
    if (p.rack != null && p.rack !== '') this.string(0x22, p.rack);
    if (p.assetClass != null && p.assetClass !== '') this.string(0x2a, p.assetClass);
    if (p.asset != null && p.asset !== '') this.string(0x32, p.asset);
    this.closeLength(at, 1);
  }

  private source(m: unknown): void {
    const r = this.openMessage(0x72, m, busway.v1.SourceRef.prototype) as busway.v1.ISourceRef;
    const at = this.keepLength(1);
    if (r.protocol != null && r.protocol !== '') this.string(0x0a, r.protocol);
    if (r.address != null && r.address !== '') this.string(0x12, r.address);
    if (r.sourceId != null && r.sourceId !== '') this.string(0x1a, r.sourceId);
    this.closeLength(at, 1);
  }

  /** A nested message's tag, once it is known to be plain: an object literal or its generated class. */
  private openMessage(tag: number, m: unknown, proto: object): object {
    if (typeof m !== 'object' || m === null) throw notPlain;
    const p = Object.getPrototypeOf(m);
    if ((p !== Object.prototype && p !== proto) || (m as { $unknowns?: unknown }).$unknowns != null)
      throw notPlain;
    this.tag(tag);
    return m;
  }

  /** A string field: ASCII a character at a time (its length is its size), else Node's UTF-8 encoder. */
  private string(tag: number, value: unknown): void {
    if (typeof value !== 'string') throw notPlain;
    const n = value.length;
    this.tag(tag);
    if (n < 128) {
      this.ensure(n + 1);
      const b = this.buf;
      let p = this.pos + 1;
      let ascii = true;
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        b[p++] = c;
      }
      if (ascii) {
        b[this.pos] = n;
        this.pos = p;
        return;
      }
    }
    if (LONE_SURROGATE.test(value)) throw notPlain;
    const size = Buffer.byteLength(value, 'utf8');
    this.ensure(size + 5);
    this.varint(size);
    this.pos += this.buf.write(value, this.pos, 'utf8');
  }

  /** Keeps `n` bytes for a length not known yet; returns where they start. */
  private keepLength(n: number): number {
    this.ensure(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** Writes the length of what follows the `kept` bytes at `at`, moving it when the length needs another size. */
  private closeLength(at: number, kept: number): void {
    const length = this.pos - at - kept;
    const size = varintSize(length);
    if (size !== kept) {
      this.ensure(size - kept);
      this.buf.copyWithin(at + size, at + kept, this.pos);
      this.pos += size - kept;
    }
    let v = length;
    let p = at;
    while (v > 127) {
      this.buf[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buf[p] = v;
  }

  private bytesField(tag: number, bytes: Uint8Array): void {
    this.tag(tag);
    this.ensure(bytes.length + 5);
    this.varint(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
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

  /** A bool: its tag, then one byte. */
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
