/**
 * The last `depth` identities (event time, sequence) of each point, in flat typed arrays: a bounded,
 * allocation-free dedup memory of `maxKeys` x `depth` x 16 bytes plus one map entry per point. When the table
 * is full the point seen first is forgotten (its repeats then count as late, never as new).
 */
export class DedupTable {
  private readonly slots = new Map<string, number>();
  private times: Float64Array;
  private seqs: Float64Array;
  private heads: Uint16Array;
  private capacity: number;
  private next = 0;
  /** Points forgotten because the table was full. */
  evicted = 0;

  constructor(
    private readonly depth: number,
    private readonly maxKeys: number,
  ) {
    this.capacity = Math.min(maxKeys, 1024);
    this.times = new Float64Array(this.capacity * depth).fill(Number.NaN);
    this.seqs = new Float64Array(this.capacity * depth);
    this.heads = new Uint16Array(this.capacity);
  }

  get size(): number {
    return this.slots.size;
  }

  /** Bytes held by the identity arrays (the map's entries come on top). */
  get bytes(): number {
    return this.times.byteLength + this.seqs.byteLength + this.heads.byteLength;
  }

  /** Whether this identity of the point was recorded and not yet pushed out by newer ones. */
  has(key: string, t: number, seq: number): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    const base = slot * this.depth;
    for (let i = base; i < base + this.depth; i++)
      if (this.times[i] === t && this.seqs[i] === seq) return true;
    return false;
  }

  /** Records an identity; returns false when it was already there (a repeat). */
  add(key: string, t: number, seq: number): boolean {
    let slot = this.slots.get(key);
    if (slot === undefined) slot = this.allocate(key);
    else if (this.has(key, t, seq)) return false;
    const head = this.heads[slot] as number;
    const i = slot * this.depth + head;
    this.times[i] = t;
    this.seqs[i] = seq;
    this.heads[slot] = (head + 1) % this.depth;
    return true;
  }

  clear(): void {
    this.slots.clear();
    this.times.fill(Number.NaN);
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
      this.times.fill(Number.NaN, slot * this.depth, (slot + 1) * this.depth);
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
    const times = new Float64Array(capacity * this.depth).fill(Number.NaN);
    times.set(this.times);
    const seqs = new Float64Array(capacity * this.depth);
    seqs.set(this.seqs);
    const heads = new Uint16Array(capacity);
    heads.set(this.heads);
    this.times = times;
    this.seqs = seqs;
    this.heads = heads;
    this.capacity = capacity;
  }
}
