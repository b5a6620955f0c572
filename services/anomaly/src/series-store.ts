import { PROFILE_BUCKETS, STATE_BYTES, STRIDE } from './state-layout.js';

const CHECKPOINT_VERSION = 1;
/** Bytes of one checkpointed series: a version byte, then the doubles, then the profile floats. */
export const CHECKPOINT_BYTES = 8 + STATE_BYTES;

/**
 * Every series' state in two typed arrays, one fixed-size slot per series, at most `maxSeries` slots. When
 * full, a slot is reclaimed with the CLOCK algorithm (an approximation of least recently used: a series
 * touched since the hand last passed survives). Arrays grow by doubling up to `maxSeries`.
 */
export class SeriesStore {
  f64: Float64Array;
  f32: Float32Array;
  private readonly index = new Map<string, number>();
  private keys: (string | undefined)[] = [];
  private referenced: Uint8Array;
  private changed: Uint8Array;
  private capacity: number;
  private used = 0;
  private hand = 0;
  /** Keys forgotten since the last call to takeEvicted (their checkpoints can be deleted). */
  private evicted: string[] = [];

  constructor(readonly maxSeries: number) {
    this.capacity = Math.min(maxSeries, 1024);
    this.f64 = new Float64Array(this.capacity * STRIDE);
    this.f32 = new Float32Array(this.capacity * PROFILE_BUCKETS);
    this.referenced = new Uint8Array(this.capacity);
    this.changed = new Uint8Array(this.capacity);
  }

  get size(): number {
    return this.index.size;
  }

  /** The slot of a known series, or -1. Marks it used and changed. */
  find(key: string): number {
    const slot = this.index.get(key);
    if (slot === undefined) return -1;
    this.referenced[slot] = 1;
    this.changed[slot] = 1;
    return slot;
  }

  /** A zeroed slot for a new series (evicting one when full). */
  allocate(key: string): number {
    let slot: number;
    if (this.used < this.capacity) slot = this.used++;
    else if (this.capacity < this.maxSeries) {
      this.grow();
      slot = this.used++;
    } else slot = this.reclaim();
    this.index.set(key, slot);
    this.keys[slot] = key;
    this.f64.fill(0, slot * STRIDE, (slot + 1) * STRIDE);
    this.f32.fill(Number.NaN, slot * PROFILE_BUCKETS, (slot + 1) * PROFILE_BUCKETS);
    this.referenced[slot] = 0; // a new series must be touched again to outlive an older one
    this.changed[slot] = 1;
    return slot;
  }

  keyOf(slot: number): string | undefined {
    return this.keys[slot];
  }

  /** Slots changed since the last call, and clears the marks. */
  takeChanged(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.used; i++)
      if (this.changed[i] === 1) {
        this.changed[i] = 0;
        if (this.keys[i] !== undefined) out.push(i);
      }
    return out;
  }

  /** Marks slots changed again (a checkpoint write failed). */
  markChanged(slots: number[]): void {
    for (const s of slots) this.changed[s] = 1;
  }

  takeEvicted(): string[] {
    const out = this.evicted;
    this.evicted = [];
    return out;
  }

  /** One series' state as a compact binary record. */
  encode(slot: number): Buffer {
    const buf = Buffer.alloc(CHECKPOINT_BYTES);
    buf.writeUInt8(CHECKPOINT_VERSION, 0);
    for (let i = 0; i < STRIDE; i++) buf.writeDoubleLE(this.f64[slot * STRIDE + i]!, 8 + i * 8);
    for (let i = 0; i < PROFILE_BUCKETS; i++)
      buf.writeFloatLE(this.f32[slot * PROFILE_BUCKETS + i]!, 8 + STRIDE * 8 + i * 4);
    return buf;
  }

  /** Restores a series from `encode`'s record; false (and nothing changed) when the record is not one. */
  restore(key: string, buf: Uint8Array): boolean {
    if (buf.length !== CHECKPOINT_BYTES || buf[0] !== CHECKPOINT_VERSION) return false;
    const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    const slot = this.index.get(key) ?? this.allocate(key);
    for (let i = 0; i < STRIDE; i++) this.f64[slot * STRIDE + i] = view.readDoubleLE(8 + i * 8);
    for (let i = 0; i < PROFILE_BUCKETS; i++)
      this.f32[slot * PROFILE_BUCKETS + i] = view.readFloatLE(8 + STRIDE * 8 + i * 4);
    this.changed[slot] = 0;
    return true;
  }

  private grow(): void {
    const capacity = Math.min(this.maxSeries, this.capacity * 2);
    const f64 = new Float64Array(capacity * STRIDE);
    f64.set(this.f64);
    const f32 = new Float32Array(capacity * PROFILE_BUCKETS);
    f32.set(this.f32);
    const referenced = new Uint8Array(capacity);
    referenced.set(this.referenced);
    const changed = new Uint8Array(capacity);
    changed.set(this.changed);
    this.f64 = f64;
    this.f32 = f32;
    this.referenced = referenced;
    this.changed = changed;
    this.capacity = capacity;
  }

  private reclaim(): number {
    for (;;) {
      const slot = this.hand;
      this.hand = (this.hand + 1) % this.capacity;
      if (this.referenced[slot] === 1) {
        this.referenced[slot] = 0;
        continue;
      }
      const key = this.keys[slot];
      if (key !== undefined) {
        this.index.delete(key);
        this.evicted.push(key);
        if (this.evicted.length > 10_000) this.evicted.shift(); // bounded even if nobody drains it
      }
      return slot;
    }
  }
}
