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

/**
 * partition: one watermark for the partition, its newest event time less the bound (a source further behind
 * than the bound turns late); source: one per source (input subject), the partition held at the lowest.
 */
export type WatermarkScope = 'partition' | 'source';

export interface OrderBufferOptions {
  /** @default 'partition' */
  watermarkScope?: WatermarkScope;
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
  /** Absent in checkpoints of earlier versions: restored as the newest of their dense sources. */
  denseNewestMs?: number;
  sources: [string, number, boolean?][];
}

interface SourceState {
  maxT: number;
  lastWallMs: number;
  sparse: boolean;
}

/**
 * Event-time ordering with watermarks per partition or per source (`watermarkScope`). A partition's watermark
 * is the newest event time it has seen (no later than the wall clock at arrival: a fast clock cannot run it
 * ahead) minus the out-of-orderness bound. Per source, each source (an input subject: one rack) has such a
 * watermark and output waits for the lowest of the sources that are neither idle (no message for
 * `idleTimeoutMs`) nor stragglers (further than `maxSourceLagMs` behind the newest): no source's samples turn
 * late for lagging the others, at the price of the slowest source's lag on everything. Output is released in
 * whole slots of `emitSlotMs`, sorted by event time. Sparse sources (job and grid events) never hold the
 * watermark: they only have to arrive within the bound. When every source is idle everything buffered leaves.
 * The released watermark never goes back. Repeats (same point, event time and sequence) are removed on
 * release and recognized on arrival after it; an item behind the watermark is late: re-emitted when within
 * the allowed lateness, else for the late side output. Memory is bounded: `maxBuffered` items (beyond it the
 * oldest slots leave early: `forced`) and `maxKeys` x `dedupDepth` identities.
 */
export class OrderBuffer<T extends Orderable> {
  private readonly slots = new Map<number, T[]>();
  private readonly heap: number[] = [];
  private readonly sources = new Map<string, SourceState>();
  private readonly dedup: DedupTable;
  private count = 0;
  private emittedMs = Number.NEGATIVE_INFINITY;
  /**
   * What a sample behind is late for: emittedMs, except after an idle release, which lets out everything seen
   * (events, clocks running ahead) while this line stops at the dense sources' newest time (see drain).
   */
  private lateMs = Number.NEGATIVE_INFINITY;
  private maxSeenMs = Number.NEGATIVE_INFINITY;
  /** The partition's newest event time of a dense source, capped at the wall clock it arrived at. */
  private denseNewestMs = Number.NEGATIVE_INFINITY;
  private denseWallMs = Number.NEGATIVE_INFINITY;
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
    if (item.t < this.lateMs) return this.behind(item, this.lateMs);
    // behind what an idle release let out, not behind the line: late only behind its own point's output
    if (item.t < this.emittedMs) {
      const newest = this.dedup.newestOf(item.key);
      if (item.t < newest) return this.behind(item, newest);
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

  /** An item behind `line`: a repeat, else late (re-emitted when within the allowed lateness). */
  private behind(item: T, line: number): PushResult {
    if (!this.dedup.add(item.key, item.t, item.seq, item.seqHigh)) {
      this.duplicates++;
      return 'duplicate';
    }
    return item.t >= line - this.opts.allowedLatenessMs ? 'late-accepted' : 'late';
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
    if (this.opts.watermarkScope !== 'source') return this.partitionWatermark(nowMs, behind);
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

  private partitionWatermark(nowMs: number, behind: boolean): number {
    const idle = !behind && nowMs - this.denseWallMs >= this.opts.idleTimeoutMs;
    // idle, or only sparse sources so far: release everything seen (not while behind: more is on its way)
    if (idle || this.denseNewestMs === Number.NEGATIVE_INFINITY)
      return behind ? Number.NEGATIVE_INFINITY : this.maxSeenMs + this.opts.emitSlotMs;
    return this.denseNewestMs - this.opts.outOfOrdernessMs;
  }

  /** Releases every whole slot the watermark has passed (and the oldest beyond maxBuffered). */
  drain(nowMs: number, behind = false): EmittedSlot<T>[] {
    const slotMs = this.opts.emitSlotMs;
    const wm = this.watermark(nowMs, behind);
    const limit = Number.isFinite(wm) ? Math.floor(wm / slotMs) * slotMs : Number.NEGATIVE_INFINITY;
    const out: EmittedSlot<T>[] = [];
    let forcedMs = Number.NEGATIVE_INFINITY;
    while (this.heap.length > 0) {
      const idx = this.heap[0] as number;
      const endMs = (idx + 1) * slotMs;
      if (endMs > limit) {
        if (this.count <= this.opts.maxBuffered) break;
        this.forced += this.slots.get(idx)?.length ?? 0;
        forcedMs = endMs;
      }
      out.push(this.release(idx));
    }
    if (limit > this.emittedMs) this.emittedMs = limit;
    // the line stops at the dense sources' newest time: else a job event stamped during an outage, and sent
    // before the samples held through it, made every one of them late once the idle release let it out
    const line = Math.max(Math.min(limit, this.denseLineMs()), forcedMs);
    if (line > this.lateMs) this.lateMs = line;
    this.forgetQuietSources(nowMs);
    return out;
  }

  /** The end of the slot of the newest dense event time seen (capped at the wall clock); none: no limit. */
  private denseLineMs(): number {
    if (this.denseNewestMs === Number.NEGATIVE_INFINITY) return Number.POSITIVE_INFINITY;
    const slotMs = this.opts.emitSlotMs;
    return (Math.floor(this.denseNewestMs / slotMs) + 1) * slotMs;
  }

  /** Releases everything regardless of the watermark (tests, and a final flush without checkpoints). */
  drainAll(): EmittedSlot<T>[] {
    const out: EmittedSlot<T>[] = [];
    while (this.heap.length > 0) out.push(this.release(this.heap[0] as number));
    this.lateMs = this.emittedMs;
    return out;
  }

  snapshot(): OrderBufferState {
    return {
      emittedMs: this.emittedMs,
      maxSeenMs: this.maxSeenMs,
      denseNewestMs: this.denseNewestMs,
      sources: [...this.sources].map(([name, s]) => [name, s.maxT, s.sparse]),
    };
  }

  /** Restores the watermarks of a checkpoint; sources count as just heard from. */
  restore(state: OrderBufferState, nowMs: number): void {
    this.emittedMs = state.emittedMs ?? Number.NEGATIVE_INFINITY;
    this.lateMs = this.emittedMs; // not kept: late behind everything released, as before an idle release
    this.maxSeenMs = state.maxSeenMs ?? Number.NEGATIVE_INFINITY;
    this.denseWallMs = nowMs;
    this.sources.clear();
    for (const [name, maxT, sparse] of state.sources)
      this.sources.set(name, { maxT, lastWallMs: nowMs, sparse: sparse === true });
    // a checkpoint of an earlier version has no partition watermark: its dense sources' newest is the closest
    const dense = state.sources.filter(([, , sparse]) => sparse !== true).map(([, maxT]) => maxT);
    this.denseNewestMs = state.denseNewestMs ?? Math.max(Number.NEGATIVE_INFINITY, ...dense);
  }

  private observe(source: string, t: number, nowMs: number, sparse: boolean): void {
    const s = this.sources.get(source);
    if (s) {
      if (t > s.maxT) s.maxT = t;
      s.lastWallMs = nowMs;
    } else this.sources.set(source, { maxT: t, lastWallMs: nowMs, sparse });
    if (t > this.maxSeenMs) this.maxSeenMs = t;
    if (!sparse) {
      const capped = Math.min(t, nowMs);
      if (capped > this.denseNewestMs) this.denseNewestMs = capped;
      this.denseWallMs = nowMs;
    }
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
    let items = this.slots.get(idx) ?? [];
    this.slots.delete(idx);
    this.count -= items.length;
    if (items.length > 1) items = byTime(items, idx * this.opts.emitSlotMs);
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

/** Time within a slot in steps of 2^-12 ms: the spacing of doubles around today's epoch milliseconds. */
const STEPS_PER_MS = 4096;
const MAX_INDEX = 2 ** 20;

/**
 * A slot's items sorted by event time, ties in arrival order. Each item's time within the slot and its index
 * make one exact integer key, sorted natively (a comparator sort was a third of the ordering's CPU on a busy
 * slot); a time that is not a whole step (an epoch far from today's) or a huge slot sorts with a comparator.
 */
function byTime<T extends Orderable>(items: T[], startMs: number): T[] {
  const n = items.length;
  if (n >= MAX_INDEX) return items.sort((a, b) => a.t - b.t);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const step = ((items[i] as T).t - startMs) * STEPS_PER_MS;
    // a slot's start rounded above an item's time would give a negative index: the comparator takes it
    if (!Number.isInteger(step) || step < 0) return items.sort((a, b) => a.t - b.t);
    keys[i] = step * MAX_INDEX + i;
  }
  keys.sort();
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = items[(keys[i] as number) % MAX_INDEX] as T;
  return out;
}
