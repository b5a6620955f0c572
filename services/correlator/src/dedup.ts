/** [time, sequence high 32 bits, sequence low 32 bits]: a uint64 sequence kept exactly, even above 2^53. */
const STRIDE = 3;

/**
 * The last `depth` identities (event time, sequence) of each point, in flat typed arrays: a bounded,
 * allocation-free dedup memory of `maxKeys` x (`depth` x 24 + 10) bytes plus one map entry per point. When the table
 * is full the point seen first is forgotten (its repeats then count as late, never as new).
 */
export class DedupTable {
  private readonly slots = new Map<string, number>();
  /** [time, sequence high, sequence low] triples, `depth` of them per point, side by side. */
  private ids: Float64Array;
  private heads: Uint16Array;
  /** Newest time recorded per point: a later one cannot be a repeat, so the scan is skipped. */
  private newest: Float64Array;
  private capacity: number;
  private next = 0;
  /** Points forgotten because the table was full. */
  evicted = 0;

  constructor(
    private readonly depth: number,
    private readonly maxKeys: number,
  ) {
    this.capacity = Math.min(maxKeys, 1024);
    this.ids = new Float64Array(this.capacity * depth * STRIDE).fill(Number.NaN);
    this.heads = new Uint16Array(this.capacity);
    this.newest = new Float64Array(this.capacity).fill(Number.NEGATIVE_INFINITY);
  }

  get size(): number {
    return this.slots.size;
  }

  /** Bytes held by the identity arrays (the map's entries come on top). */
  get bytes(): number {
    return this.ids.byteLength + this.heads.byteLength + this.newest.byteLength;
  }

  /** Whether this identity of the point was recorded and not yet pushed out by newer ones. */
  has(key: string, t: number, seq: number, seqHigh = 0): boolean {
    const slot = this.slots.get(key);
    return slot !== undefined && this.hasAt(slot, t, seq, seqHigh);
  }

  private hasAt(slot: number, t: number, seq: number, seqHigh: number): boolean {
    if (t > (this.newest[slot] as number)) return false;
    const base = slot * this.depth * STRIDE;
    for (let i = base; i < base + this.depth * STRIDE; i += STRIDE)
      if (this.ids[i] === t && this.ids[i + 2] === seq && this.ids[i + 1] === seqHigh) return true;
    return false;
  }

  /** The newest event time recorded for the point (-Infinity: none). */
  newestOf(key: string): number {
    const slot = this.slots.get(key);
    return slot === undefined ? Number.NEGATIVE_INFINITY : (this.newest[slot] as number);
  }

  /** Records an identity; returns false when it was already there (a repeat). */
  add(key: string, t: number, seq: number, seqHigh = 0): boolean {
    let slot = this.slots.get(key);
    if (slot === undefined) slot = this.allocate(key);
    else if (this.hasAt(slot, t, seq, seqHigh)) return false;
    const head = this.heads[slot] as number;
    const i = (slot * this.depth + head) * STRIDE;
    this.ids[i] = t;
    this.ids[i + 1] = seqHigh;
    this.ids[i + 2] = seq;
    this.heads[slot] = (head + 1) % this.depth;
    if (t > (this.newest[slot] as number)) this.newest[slot] = t;
    return true;
  }

  clear(): void {
    this.slots.clear();
    this.ids.fill(Number.NaN);
    this.newest.fill(Number.NEGATIVE_INFINITY);
    this.next = 0;
  }

  private allocate(key: string): number {
    let slot: number;
    if (this.slots.size >= this.maxKeys) {
      // forget the point seen first: Map iteration follows insertion order
      const [oldKey, oldSlot] = this.slots.entries().next().value as [string, number];
      this.slots.delete(oldKey);
      this.evicted++;
      slot = oldSlot;
      this.ids.fill(Number.NaN, slot * this.depth * STRIDE, (slot + 1) * this.depth * STRIDE);
      this.newest[slot] = Number.NEGATIVE_INFINITY;
    } else {
      if (this.next === this.capacity) this.grow();
      slot = this.next++;
    }
    this.heads[slot] = 0;
    this.slots.set(key, slot);
    return slot;
  }

  private grow(): void {
    const capacity = Math.min(this.maxKeys, this.capacity * 2);
    const ids = new Float64Array(capacity * this.depth * STRIDE).fill(Number.NaN);
    ids.set(this.ids);
    const heads = new Uint16Array(capacity);
    heads.set(this.heads);
    const newest = new Float64Array(capacity).fill(Number.NEGATIVE_INFINITY);
    newest.set(this.newest);
    this.ids = ids;
    this.heads = heads;
    this.newest = newest;
    this.capacity = capacity;
  }
}
