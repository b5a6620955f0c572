/** Ids with a lone surrogate: their UTF-8 bytes would not give them back, so they are kept as strings. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Point ids as UTF-8 bytes in one buffer, found by an open-addressing hash table (MurmurHash3 of the bytes): no
 * string object and no map entry per point, and a lookup straight from the bytes of a protobuf message. When
 * an id repeats, the last row wins (as `Map.set` would).
 */
export class PointIdTable {
  private readonly bytes: Uint8Array;
  /** Row r's id is bytes[starts[r], starts[r + 1]). */
  private readonly starts: Int32Array;
  /** Row + 1 per slot; 0 is empty. At most half full. */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly odd = new Map<string, number>();
  private readonly oddIds = new Map<number, string>();
  /** Whether every id is ASCII (then bytes that match an id are ASCII too). */
  readonly ascii: boolean;

  constructor(ids: readonly string[]) {
    const n = ids.length;
    this.starts = new Int32Array(n + 1);
    let total = 0;
    for (let r = 0; r < n; r++) {
      const id = ids[r] as string;
      this.starts[r] = total;
      if (LONE_SURROGATE.test(id)) this.oddIds.set(r, id);
      else total += Buffer.byteLength(id, 'utf8');
    }
    this.starts[n] = total;
    let ascii = this.oddIds.size === 0;
    for (let r = 0; r < n && ascii; r++)
      ascii = (ids[r] as string).length === (this.starts[r + 1] as number) - (this.starts[r] as number);
    this.ascii = ascii;
    const buf = Buffer.allocUnsafeSlow(total);
    for (let r = 0; r < n; r++)
      if (!this.oddIds.has(r)) buf.write(ids[r] as string, this.starts[r] as number, 'utf8');
    this.bytes = buf;
    let capacity = 16;
    while (capacity < n * 2) capacity *= 2;
    this.slots = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (let r = 0; r < n; r++) {
      const odd = this.oddIds.get(r);
      if (odd !== undefined) {
        this.odd.set(odd, r);
        continue;
      }
      const s = this.starts[r] as number;
      const e = this.starts[r + 1] as number;
      let slot = hashBytes(buf, s, e) & this.mask;
      for (;;) {
        const held = this.slots[slot] as number;
        if (held === 0 || this.matches(held - 1, buf, s, e)) break;
        slot = (slot + 1) & this.mask;
      }
      this.slots[slot] = r + 1;
    }
  }

  get size(): number {
    return this.starts.length - 1;
  }

  /** The row of an id given as UTF-8 bytes `buf[start, end)`, or -1. */
  rowOfBytes(buf: Uint8Array, start: number, end: number): number {
    let slot = hashBytes(buf, start, end) & this.mask;
    for (;;) {
      const held = this.slots[slot] as number;
      if (held === 0) return -1;
      if (this.matches(held - 1, buf, start, end)) return held - 1;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The row of an id, or -1. */
  rowOf(id: string): number {
    if (this.odd.size > 0) {
      const r = this.odd.get(id);
      if (r !== undefined) return r;
    }
    for (let i = 0; i < id.length; i++) {
      if (id.charCodeAt(i) >= 0x80) {
        if (LONE_SURROGATE.test(id)) return -1;
        const b = Buffer.from(id, 'utf8');
        return this.rowOfBytes(b, 0, b.length);
      }
    }
    let slot = hashAscii(id) & this.mask;
    for (;;) {
      const held = this.slots[slot] as number;
      if (held === 0) return -1;
      if (this.matchesAscii(held - 1, id)) return held - 1;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Whether row `row`'s id is the UTF-8 bytes `buf[start, end)`. */
  matches(row: number, buf: Uint8Array, start: number, end: number): boolean {
    const s = this.starts[row] as number;
    const len = end - start;
    if ((this.starts[row + 1] as number) - s !== len || (this.oddIds.size !== 0 && this.oddIds.has(row)))
      return false;
    const b = this.bytes;
    for (let i = 0; i < len; i++) if (b[s + i] !== buf[start + i]) return false;
    return true;
  }

  private matchesAscii(row: number, id: string): boolean {
    const s = this.starts[row] as number;
    if ((this.starts[row + 1] as number) - s !== id.length) return false;
    const b = this.bytes;
    for (let i = 0; i < id.length; i++) if (b[s + i] !== id.charCodeAt(i)) return false;
    return true;
  }

  idOf(row: number): string {
    return this.oddIds.get(row) ?? this.bytesToString(row);
  }

  private bytesToString(row: number): string {
    return (this.bytes as Buffer).toString('utf8', this.starts[row], this.starts[row + 1]);
  }
}

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixH(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, tail: number, len: number): number {
  if (tail !== 0) h ^= mixK(tail);
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** MurmurHash3 (x86, 32 bit) of `buf[start, end)`. */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0;
  let i = start;
  for (; i + 4 <= end; i += 4)
    h = mixH(
      h,
      (buf[i] as number) |
        ((buf[i + 1] as number) << 8) |
        ((buf[i + 2] as number) << 16) |
        ((buf[i + 3] as number) << 24),
    );
  let tail = 0;
  for (let shift = 0; i < end; i++, shift += 8) tail |= (buf[i] as number) << shift;
  return finish(h, tail, end - start);
}

/** The same hash of an ASCII string's bytes, read from its char codes. */
function hashAscii(id: string): number {
  let h = 0;
  let i = 0;
  const end = id.length;
  for (; i + 4 <= end; i += 4)
    h = mixH(
      h,
      id.charCodeAt(i) |
        (id.charCodeAt(i + 1) << 8) |
        (id.charCodeAt(i + 2) << 16) |
        (id.charCodeAt(i + 3) << 24),
    );
  let tail = 0;
  for (let shift = 0; i < end; i++, shift += 8) tail |= id.charCodeAt(i) << shift;
  return finish(h, tail, end);
}
