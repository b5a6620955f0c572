import { SlabPool } from './slab-pool.js';
import { notPlain } from './wire-reader.js';

/** A lone surrogate: protobufjs encodes it its own way, so a string holding one is left to the generated encoder. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The protobuf wire primitives for writers that encode hot-path messages straight into one buffer, to the
 * same bytes as the generated encoders. A length is kept before what it covers and written once that is
 * done (moved if it needs more bytes than were kept). What a writer cannot write exactly as the generated
 * encoder does throws `notPlain`.
 *
 * A message is written into one reused buffer (its cache lines stay warm), then copied into a slab of `slabs`
 * and handed out as a view of it: no buffer allocated per message. Give it back to `slabs` once nothing reads
 * it, and its memory is reused.
 */
export class ProtoWriter {
  protected buf = Buffer.allocUnsafeSlow(1 << 16);
  protected pos = 0;

  constructor(readonly slabs = new SlabPool()) {}

  /** Starts a message, dropping whatever was written since the last `written()`. */
  protected begin(): void {
    this.pos = 0;
  }

  /** The message written since `begin()`, as a view of a slab (never written again until given back). */
  protected written(): Buffer {
    return this.slabs.copy(this.buf, this.pos);
  }

  /** A string field: ASCII a character at a time (its length is its size), else Node's UTF-8 encoder. */
  protected string(tag: number, value: unknown): void {
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
  protected keepLength(n: number): number {
    this.ensure(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** Writes the length of what follows the `kept` bytes at `at`, moving it when the length needs another size. */
  protected closeLength(at: number, kept: number): void {
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

  /** Bytes as they are: a field (or several) encoded before. */
  protected raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  protected bytesField(tag: number, bytes: Uint8Array): void {
    this.tag(tag);
    this.ensure(5);
    this.varint(bytes.length);
    this.raw(bytes);
  }

  protected doubleField(tag: number, value: number): void {
    this.tag(tag);
    this.ensure(8);
    this.pos = this.buf.writeDoubleLE(value, this.pos);
  }

  /** A fixed64 from its halves; zero is the default and is not written. */
  protected fixed64Bits(tag: number, lo: number, hi: number): void {
    if (lo === 0 && hi === 0) return;
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

  /** A sint64 from the halves of its two's complement, zigzagged. */
  protected sint64Bits(tag: number, lo: number, hi: number): void {
    const mask = hi >> 31;
    this.varint64(tag, ((lo << 1) ^ mask) >>> 0, (((hi << 1) | (lo >>> 31)) ^ mask) >>> 0);
  }

  /** A uint32 or a non-negative enum. */
  protected uint32(tag: number, value: number): void {
    this.tag(tag);
    this.ensure(5);
    this.varint(value);
  }

  /** A bool: its tag, then one byte. */
  protected small(tag: number, value: 0 | 1): void {
    this.tag(tag);
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  /** A varint field of up to 64 bits, from its unsigned halves. */
  protected varint64(tag: number, lo: number, hi: number): void {
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
  protected tag(tag: number): void {
    this.ensure(2);
    if (tag > 0xff) {
      this.buf[this.pos++] = tag & 0xff;
      this.buf[this.pos++] = tag >>> 8;
    } else this.buf[this.pos++] = tag;
  }

  /** A varint below 2^32; the caller has ensured its five bytes. */
  protected varint(v: number): void {
    while (v > 127) {
      this.buf[this.pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  protected ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}
