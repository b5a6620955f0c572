import { DedupTable } from './dedup.js';

/** What the buffer needs to know of an item. */
export interface Orderable {
  /** Event time, ms since the epoch (fractional). */
  t: number;
  /** Identity of the series: the point id (or `event|<id>`), for dedup and per-key order. */
  key: string;
  /** Source sequence, its low 32 bits; 0 when the source has none. */
  seq: number;
  /** Its high 32 bits (a uint64 sequence is compared exactly). @default 0 */
  seqHigh?: number;
  /** Watermark source: the input subject it came on (one rack, or one event kind). */
  source: string;
  /** A sparse source (events) never holds the watermark: its items only have to come within the bound. */
  sparse?: boolean;
}

/** buffered: waits for the watermark; late-accepted: behind it but within the allowed lateness. */
export type PushResult = 'buffered' | 'duplicate' | 'late' | 'late-accepted';

export interface OrderBufferOptions {
  outOfOrdernessMs: number;
  allowedLatenessMs: number;
  idleTimeoutMs: number;
  maxSourceLagMs: number;
  emitSlotMs: number;
  dedupDepth: number;
  maxKeys: number;
  maxBuffered: number;
}

/** One emitted slot: its items sorted by event time, repeats removed. */
export interface EmittedSlot<T> {
  startMs: number;
  items: T[];
}

/** What a checkpoint keeps of the buffer besides its items (which the input stream holds). */
export interface OrderBufferState {
  emittedMs: number;
  maxSeenMs: number;
  sources: [string, number, boolean?][];
}

interface SourceState {
  maxT: number;
  lastWallMs: number;
  sparse: boolean;
}

/**
 * Event-time ordering with per-source watermarks. Each source (an input subject: one rack) has a watermark:
 * its newest event time minus the out-of-orderness bound. Output is released up to the lowest watermark of
 * the sources that are neither idle (no message for `idleTimeoutMs`) nor stragglers (further than
 * `maxSourceLagMs` behind the newest), in whole slots of `emitSlotMs`, sorted by event time. Sparse sources
 * (job and grid events) never hold it back: they only have to arrive within the bound. When every source is
 * idle everything buffered leaves. The released watermark never goes back. Repeats (same point, event time and
 * sequence) are removed on release and recognized on arrival after it; an item behind the watermark is late:
 * re-emitted when within the allowed lateness, else for the late side output. Memory is bounded:
 * `maxBuffered` items (beyond it the oldest slots leave early: `forced`) and `maxKeys` x `dedupDepth`
 * identities.
 */
export class OrderBuffer<T extends Orderable> {
  private readonly slots = new Map<number, T[]>();
  private readonly heap: number[] = [];
  private readonly sources = new Map<string, SourceState>();
  private readonly dedup: DedupTable;
  private count = 0;
  private emittedMs = Number.NEGATIVE_INFINITY;
  private maxSeenMs = Number.NEGATIVE_INFINITY;
  private forgotAt = Number.NEGATIVE_INFINITY;
  /** Items released before the watermark reached them because the buffer was full. */
  forced = 0;
  /** Repeats removed, on arrival or on release. */
  duplicates = 0;

  constructor(private readonly opts: OrderBufferOptions) {
    this.dedup = new DedupTable(opts.dedupDepth, opts.maxKeys);
  }

  get size(): number {
    return this.count;
  }

  /** Everything before this event time has been released. */
  get emittedWatermarkMs(): number {
    return this.emittedMs;
  }

  get keys(): number {
    return this.dedup.size;
  }

  get dedupBytes(): number {
    return this.dedup.bytes;
  }

  get sourceCount(): number {
    return this.sources.size;
  }

  push(item: T, nowMs: number): PushResult {
    this.observe(item.source, item.t, nowMs, item.sparse === true);
    if (item.t < this.emittedMs) {
      if (!this.dedup.add(item.key, item.t, item.seq, item.seqHigh)) {
        this.duplicates++;
        return 'duplicate';
      }
      return item.t >= this.emittedMs - this.opts.allowedLatenessMs ? 'late-accepted' : 'late';
    }
    const idx = Math.floor(item.t / this.opts.emitSlotMs);
    const slot = this.slots.get(idx);
    if (slot) slot.push(item);
    else {
      this.slots.set(idx, [item]);
      this.heapPush(idx);
    }
    this.count++;
    return 'buffered';
  }

  /**
   * An item of an input that was processed before the restored checkpoint: when its time is already released
   * it is only remembered for dedup (and true is returned: skip it), otherwise it goes back into the buffer.
   */
  replay(item: T, nowMs: number): boolean {
    if (item.t < this.emittedMs) {
      this.observe(item.source, item.t, nowMs, item.sparse === true);
      this.dedup.add(item.key, item.t, item.seq, item.seqHigh);
      return true;
    }
    this.push(item, nowMs);
    return false;
  }

  /**
   * The current watermark (not quantized): what may be released now. While the input has a backlog (`behind`:
   * messages wait in the stream) no source counts as idle: silence then means the reader is behind, not the
   * source.
   */
  watermark(nowMs: number, behind = false): number {
    let maxT = Number.NEGATIVE_INFINITY;
    for (const s of this.sources.values()) if (s.maxT > maxT) maxT = s.maxT;
    let low = Number.POSITIVE_INFINITY;
    for (const s of this.sources.values()) {
      const idle = !behind && nowMs - s.lastWallMs >= this.opts.idleTimeoutMs;
      if (s.sparse || idle || s.maxT < maxT - this.opts.maxSourceLagMs) continue;
      if (s.maxT < low) low = s.maxT;
    }
    // every source idle: release everything seen so far (not while behind: more is on its way)
    if (low === Number.POSITIVE_INFINITY)
      return behind ? Number.NEGATIVE_INFINITY : this.maxSeenMs + this.opts.emitSlotMs;
    return low - this.opts.outOfOrdernessMs;
  }

  /** Releases every whole slot the watermark has passed (and the oldest beyond maxBuffered). */
  drain(nowMs: number, behind = false): EmittedSlot<T>[] {
    const slotMs = this.opts.emitSlotMs;
    const wm = this.watermark(nowMs, behind);
    const limit = Number.isFinite(wm) ? Math.floor(wm / slotMs) * slotMs : Number.NEGATIVE_INFINITY;
    const out: EmittedSlot<T>[] = [];
    while (this.heap.length > 0) {
      const idx = this.heap[0] as number;
      const endMs = (idx + 1) * slotMs;
      if (endMs > limit) {
        if (this.count <= this.opts.maxBuffered) break;
        this.forced += this.slots.get(idx)?.length ?? 0;
      }
      out.push(this.release(idx));
    }
    if (limit > this.emittedMs) this.emittedMs = limit;
    this.forgetQuietSources(nowMs);
    return out;
  }

  /** Releases everything regardless of the watermark (tests, and a final flush without checkpoints). */
  drainAll(): EmittedSlot<T>[] {
    const out: EmittedSlot<T>[] = [];
    while (this.heap.length > 0) out.push(this.release(this.heap[0] as number));
    return out;
  }

  snapshot(): OrderBufferState {
    return {
      emittedMs: this.emittedMs,
      maxSeenMs: this.maxSeenMs,
      sources: [...this.sources].map(([name, s]) => [name, s.maxT, s.sparse]),
    };
  }

  /** Restores the watermarks of a checkpoint; sources count as just heard from. */
  restore(state: OrderBufferState, nowMs: number): void {
    this.emittedMs = state.emittedMs ?? Number.NEGATIVE_INFINITY;
    this.maxSeenMs = state.maxSeenMs ?? Number.NEGATIVE_INFINITY;
    this.sources.clear();
    for (const [name, maxT, sparse] of state.sources)
      this.sources.set(name, { maxT, lastWallMs: nowMs, sparse: sparse === true });
  }

  private observe(source: string, t: number, nowMs: number, sparse: boolean): void {
    const s = this.sources.get(source);
    if (s) {
      if (t > s.maxT) s.maxT = t;
      s.lastWallMs = nowMs;
    } else this.sources.set(source, { maxT: t, lastWallMs: nowMs, sparse });
    if (t > this.maxSeenMs) this.maxSeenMs = t;
  }

  // a source silent for a long time is forgotten, so the watermark loop stays proportional to live sources
  private forgetQuietSources(nowMs: number): void {
    if (nowMs - this.forgotAt < 1000) return;
    this.forgotAt = nowMs;
    const forgetAfterMs = 20 * this.opts.idleTimeoutMs;
    for (const [name, s] of this.sources) if (nowMs - s.lastWallMs > forgetAfterMs) this.sources.delete(name);
  }

  private release(idx: number): EmittedSlot<T> {
    this.heapPop();
    const items = this.slots.get(idx) ?? [];
    this.slots.delete(idx);
    this.count -= items.length;
    if (items.length > 1) items.sort((a, b) => a.t - b.t);
    let kept = 0;
    for (const item of items) {
      if (this.dedup.add(item.key, item.t, item.seq, item.seqHigh)) items[kept++] = item;
      else this.duplicates++;
    }
    items.length = kept;
    const endMs = (idx + 1) * this.opts.emitSlotMs;
    if (endMs > this.emittedMs) this.emittedMs = endMs;
    return { startMs: idx * this.opts.emitSlotMs, items };
  }

  private heapPush(v: number): void {
    const h = this.heap;
    h.push(v);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as number) <= v) break;
      h[i] = h[parent] as number;
      i = parent;
    }
    h[i] = v;
  }

  private heapPop(): void {
    const h = this.heap;
    const last = h.pop() as number;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const m = r < h.length && (h[r] as number) < (h[l] as number) ? r : l;
      if ((h[m] as number) >= last) break;
      h[i] = h[m] as number;
      i = m;
    }
    h[i] = last;
  }
}
