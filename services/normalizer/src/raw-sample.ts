import { isAscii, type WireReader } from './wire.js';

/** Value field kinds, by field number: none, double, sint64, bool, string. */
export const NONE = 0;
export const DOUBLE = 4;
export const INT = 5;
export const BOOL = 6;
export const STRING = 7;

/**
 * One raw sample's fields as read off the wire: positions into the message for what is copied, decoded values
 * for what is rewritten. Reused for every sample (one object, no allocation per sample).
 */
export class RawSample {
  pidStart = 0;
  pidEnd = 0;
  valueKind = NONE;
  double = 0;
  intLo = 0;
  intHi = 0;
  bool = false;
  strStart = 0;
  strEnd = 0;
  unitStart = 0;
  unitEnd = 0;
  evLo = 0;
  evHi = 0;
  clockSource = 0;
  clockQuality = 0;
  ingLo = 0;
  ingHi = 0;
  quality = 0;
  srcStart = -1;
  srcEnd = -1;
  seqLo = 0;
  seqHi = 0;
  flagsStart = 0;
  flagsEnd = 0;
  private seen = 0;

  /**
   * Reads the sample in `data[start, end)`; false when it is not in the form the fast path takes: a field twice
   * (merge and last-wins rules), two members of the value oneof, an unknown field, a path (field 2), a
   * non-minimal varint, a negative enum, non-ASCII text, or flags that are not one run.
   */
  read(r: WireReader, data: Uint8Array, input: DataView, start: number, end: number): boolean {
    this.clear();
    r.reset(data, start, end);
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag < 0) return false;
      const field = tag >>> 3;
      const wire = tag & 7;
      const bit = field < 31 ? 1 << field : 0;
      if (field !== 17 && (this.seen & bit) !== 0) return false;
      this.seen |= bit;
      if (!this.field(r, data, input, field, wire, end)) return false;
    }
    return true;
  }

  private field(
    r: WireReader,
    data: Uint8Array,
    input: DataView,
    field: number,
    wire: number,
    end: number,
  ): boolean {
    switch (field) {
      case 1:
      case 3:
      case 8: {
        const len = wire === 2 ? r.length() : -1;
        if (len < 0) return false;
        const s = r.pos;
        r.pos += len;
        if (field === 1) {
          this.pidStart = s;
          this.pidEnd = r.pos;
        } else if (field === 8) {
          this.unitStart = s;
          this.unitEnd = r.pos;
        } else if (!isAscii(data, s, r.pos)) return false; // a raw sample's metric is replaced, but must decode
        return true;
      }
      case 4:
      case 5:
      case 6:
      case 7:
        if (this.valueKind !== NONE) return false;
        this.valueKind = field;
        return this.value(r, data, input, field, wire, end);
      case 9:
      case 12:
        if (wire !== 1 || !r.fixed64()) return false;
        if (field === 9) {
          this.evLo = r.lo;
          this.evHi = r.hi;
        } else {
          this.ingLo = r.lo;
          this.ingHi = r.hi;
        }
        return true;
      case 10:
      case 13: {
        // enums: only values one varint byte holds (a negative one takes ten bytes)
        const v = wire === 0 ? r.uint32() : -1;
        if (v < 0 || v > 0x7f) return false;
        if (field === 10) this.clockSource = v;
        else this.quality = v;
        return true;
      }
      case 11: {
        const v = wire === 0 ? r.uint32() : -1;
        this.clockQuality = v;
        return v >= 0;
      }
      case 14: {
        const len = wire === 2 ? r.length() : -1;
        if (len < 0 || !canonicalSource(data, r.pos, r.pos + len)) return false;
        this.srcStart = r.pos;
        this.srcEnd = r.pos += len;
        return true;
      }
      case 15:
        if (wire !== 0 || !r.varint64()) return false;
        this.seqLo = r.lo;
        this.seqHi = r.hi;
        return true;
      case 16:
        return wire === 0 && r.varint64(); // replaced by the normalizer
      case 17: {
        // flags are copied as they are, so they must be one run of canonical entries
        const s = r.pos - 2;
        if (wire !== 2 || (this.flagsEnd !== 0 && this.flagsEnd !== s)) return false;
        const len = r.length();
        if (len < 0 || !isAscii(data, r.pos, r.pos + len)) return false;
        r.pos += len;
        if (this.flagsEnd === 0) this.flagsStart = s;
        this.flagsEnd = r.pos;
        return true;
      }
      default:
        return false;
    }
  }

  private value(
    r: WireReader,
    data: Uint8Array,
    input: DataView,
    field: number,
    wire: number,
    end: number,
  ): boolean {
    if (field === 4) {
      if (wire !== 1 || r.pos + 8 > end) return false;
      this.double = input.getFloat64(r.pos, true);
      r.pos += 8;
      return true;
    }
    if (field === 5 || field === 6) {
      if (wire !== 0 || !r.varint64()) return false;
      this.intLo = r.lo;
      this.intHi = r.hi;
      this.bool = (r.lo | r.hi) !== 0; // any bit set, as the generated decoder reads a bool
      return true;
    }
    const len = wire === 2 ? r.length() : -1;
    if (len < 0 || !isAscii(data, r.pos, r.pos + len)) return false;
    this.strStart = r.pos;
    this.strEnd = r.pos += len;
    return true;
  }

  private clear(): void {
    this.pidStart = this.pidEnd = this.unitStart = this.unitEnd = this.flagsStart = this.flagsEnd = 0;
    this.valueKind = NONE;
    this.evLo = this.evHi = this.ingLo = this.ingHi = this.seqLo = this.seqHi = 0;
    this.clockSource = this.clockQuality = this.quality = 0;
    this.srcStart = this.srcEnd = -1;
    this.seen = 0;
  }
}

/**
 * Whether a SourceRef's bytes are exactly what the generated encoder writes for them (fields 1-3 in order, each
 * a non-empty ASCII string with a minimal length): only then is copying them the same as decoding and re-encoding.
 */
export function canonicalSource(data: Uint8Array, start: number, end: number): boolean {
  let pos = start;
  let last = 0;
  while (pos < end) {
    const tag = data[pos++] as number;
    const field = tag >>> 3;
    if ((tag & 7) !== 2 || field <= last || field > 3) return false;
    last = field;
    if (pos >= end) return false;
    let len = data[pos++] as number;
    if (len >= 0x80) {
      if (pos >= end) return false;
      const b2 = data[pos++] as number;
      if (b2 === 0 || b2 >= 0x80) return false;
      len = (len & 0x7f) | (b2 << 7);
    }
    if (len === 0 || pos + len > end || !isAscii(data, pos, pos + len)) return false;
    pos += len;
  }
  return pos === end;
}
