/**
 * Protobuf wire format, read and written by hand for the normalizer's fast path. The reader takes only the
 * canonical form (what the generated encoder writes: minimal varints, valid lengths) and says `false`/-1 on
 * anything else, so the caller can hand the message to the generated decoder, which knows every case.
 */
export class WireReader {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  /** The last 64-bit value read (varint64 or fixed64), as two unsigned 32-bit halves. */
  lo = 0;
  hi = 0;

  reset(buf: Uint8Array, start: number, end: number): void {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** A varint of at most 32 bits in minimal form, or -1. */
  uint32(): number {
    const b = this.buf;
    let pos = this.pos;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= this.end) return -1;
      const byte = b[pos++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) {
        if (byte === 0 && shift > 0) return -1; // not minimal
        if (value > 0xffffffff) return -1;
        this.pos = pos;
        return value;
      }
    }
    return -1;
  }

  /** A length prefix whose bytes are all there, or -1. */
  length(): number {
    const n = this.uint32();
    return n < 0 || this.pos + n > this.end ? -1 : n;
  }

  /** A varint of up to 64 bits in minimal form into lo/hi; false otherwise. */
  varint64(): boolean {
    const b = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= this.end) return false;
      const byte = b[pos++] as number;
      const bits = byte & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (byte < 0x80) {
        if (byte === 0 && i > 0) return false; // not minimal
        if (i === 9 && byte > 1) return false; // more than 64 bits
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        this.pos = pos;
        return true;
      }
    }
    return false;
  }

  fixed64(): boolean {
    const p = this.pos;
    if (p + 8 > this.end) return false;
    const b = this.buf;
    this.lo =
      ((b[p] as number) |
        ((b[p + 1] as number) << 8) |
        ((b[p + 2] as number) << 16) |
        ((b[p + 3] as number) << 24)) >>>
      0;
    this.hi =
      ((b[p + 4] as number) |
        ((b[p + 5] as number) << 8) |
        ((b[p + 6] as number) << 16) |
        ((b[p + 7] as number) << 24)) >>>
      0;
    this.pos = p + 8;
    return true;
  }
}

/** Whether `buf[start, end)` is ASCII (the fast path copies strings only then: any byte is valid UTF-8 as is). */
export function isAscii(buf: Uint8Array, start: number, end: number): boolean {
  let acc = 0;
  for (let i = start; i < end; i++) acc |= buf[i] as number;
  return acc < 0x80;
}

/** Bytes a varint of this unsigned 32-bit value takes. */
export function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes a varint of this 64-bit value (unsigned halves) takes. */
export function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varintSize(lo);
  return hi < 0x8 ? 5 : hi < 0x400 ? 6 : hi < 0x20000 ? 7 : hi < 0x1000000 ? 8 : hi < 0x80000000 ? 9 : 10;
}

/** Writes an unsigned 32-bit varint; returns the position after it. */
export function writeVarint32(out: Uint8Array, pos: number, v: number): number {
  while (v > 0x7f) {
    out[pos++] = (v & 0x7f) | 0x80;
    v = v >>> 7;
  }
  out[pos++] = v;
  return pos;
}

/** Writes a 64-bit varint given as unsigned halves; returns the position after it. */
export function writeVarint64(out: Uint8Array, pos: number, lo: number, hi: number): number {
  while (hi !== 0) {
    out[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi = hi >>> 7;
  }
  return writeVarint32(out, pos, lo);
}

export function writeFixed64(out: Uint8Array, pos: number, lo: number, hi: number): number {
  out[pos] = lo & 0xff;
  out[pos + 1] = (lo >>> 8) & 0xff;
  out[pos + 2] = (lo >>> 16) & 0xff;
  out[pos + 3] = lo >>> 24;
  out[pos + 4] = hi & 0xff;
  out[pos + 5] = (hi >>> 8) & 0xff;
  out[pos + 6] = (hi >>> 16) & 0xff;
  out[pos + 7] = hi >>> 24;
  return pos + 8;
}

/**
 * Copies `src[start, end)` to `out` at `pos`, four bytes at a time through DataViews (three to four times a byte
 * loop; the copies are a few dozen bytes, too short for a native call to pay). Returns the end.
 */
export function copyBytes(
  out: Uint8Array,
  outView: DataView,
  pos: number,
  src: Uint8Array,
  srcView: DataView,
  start: number,
  end: number,
): number {
  let i = start;
  for (; i + 4 <= end; i += 4, pos += 4) outView.setUint32(pos, srcView.getUint32(i, true), true);
  for (; i < end; i++) out[pos++] = src[i] as number;
  return pos;
}

/** A DataView over exactly the bytes of `a`. */
export const viewOf = (a: Uint8Array): DataView => new DataView(a.buffer, a.byteOffset, a.byteLength);
