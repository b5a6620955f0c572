/** Thrown by a WireReader when bytes are not in the plain form it reads: the generated decoder takes over. */
export class NotPlain extends Error {}
/** One instance: thrown often on a fallback path, so no stack is captured each time. */
export const notPlain = new NotPlain('not in the plain form; use the generated decoder');

export const WireType = { Varint: 0, I64: 1, Len: 2, I32: 5 } as const;

/**
 * The protobuf wire primitives for scanners that read hot-path messages without the generated decoders. It
 * reads only what it reads exactly as the generated decoder does; anything else (truncation, an overlong
 * varint, a group, a non-ASCII string) throws `notPlain`, and the scanner hands the bytes to the generated
 * decoder, which decides (and throws on what is malformed).
 */
export class WireReader {
  protected buf: Buffer = Buffer.alloc(0);
  protected pos = 0;
  /** The halves of the last `varint64()`, unsigned. */
  protected lo = 0;
  protected hi = 0;

  protected reset(data: Uint8Array): void {
    this.buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.pos = 0;
  }

  /** A varint's value below 2^32 (a uint32 field, a tag, a length), as the generated decoder reads one. */
  protected varint32(): number {
    const b = this.buf;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = b[this.pos++];
      if (byte === undefined) throw notPlain;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value > 0xffffffff ? (value % 2 ** 32) >>> 0 : value;
    }
    throw notPlain;
  }

  /** A varint of up to 64 bits into `lo` and `hi`. */
  protected varint64(): void {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      const byte = b[this.pos++];
      if (byte === undefined) throw notPlain;
      const bits = byte & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (byte < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw notPlain;
  }

  /** A length-delimited field's length, checked against the buffer. */
  protected length(): number {
    const n = this.varint32();
    if (this.pos + n > this.buf.length) throw notPlain;
    return n;
  }

  protected advance(n: number): void {
    if (this.pos + n > this.buf.length) throw notPlain;
    this.pos += n;
  }

  /** A string field's length, after checking it is ASCII (other strings: the generated decoder's UTF-8 rules). */
  protected asciiString(): number {
    return this.asciiBytes(this.length());
  }

  /** The `n` bytes at the position, checked ASCII and read past. */
  private asciiBytes(n: number): number {
    if (!this.isAscii(this.pos, this.pos + n)) throw notPlain;
    this.pos += n;
    return n;
  }

  /** Whether the bytes from `from` to `to` are all ASCII. */
  protected isAscii(from: number, to: number): boolean {
    const b = this.buf;
    let acc = 0;
    for (let i = from; i < to; i++) acc |= b[i] as number;
    return acc < 0x80;
  }

  /** An ASCII string field's text (latin1 reads ASCII as UTF-8 would). */
  protected ascii(): string {
    const n = this.asciiString();
    return this.buf.toString('latin1', this.pos - n, this.pos);
  }

  /**
   * A string field's text as `known` itself when its bytes are `known`'s characters (no string made: a scanner
   * passes what the same place held last time), else read as `ascii()`. `known` must be ASCII.
   */
  protected asciiOr(known: string | undefined): string {
    const n = this.length();
    if (known !== undefined && known.length === n) {
      const b = this.buf;
      const at = this.pos;
      let i = 0;
      while (i < n && b[at + i] === known.charCodeAt(i)) i++;
      if (i === n) {
        this.pos += n;
        return known;
      }
    }
    this.asciiBytes(n);
    return this.buf.toString('latin1', this.pos - n, this.pos);
  }

  /** A field skipped by its wire type (groups and invalid types: the generated decoder decides). */
  protected skip(wireType: number): void {
    if (wireType === WireType.Varint) this.varint64();
    else if (wireType === WireType.I64) this.advance(8);
    else if (wireType === WireType.Len) this.advance(this.length());
    else if (wireType === WireType.I32) this.advance(4);
    else throw notPlain;
  }
}
