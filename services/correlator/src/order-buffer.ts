/** An item waiting for its event time to pass the watermark. */
interface Entry<T> {
  timeMs: number;
  order: number;
  item: T;
}

export type PushResult = 'buffered' | 'duplicate' | 'late';

export interface OrderBufferOptions {
  outOfOrdernessMs: number;
  idleTimeoutMs: number;
  dedupCapacity: number;
  maxBuffered: number;
}

/**
 * Event-time ordering with a bounded out-of-orderness watermark: items come out sorted by event time once
 * the watermark passes them. When input stops for `idleTimeoutMs`, the watermark follows the wall clock. An
 * item older than what was already emitted is late, and a repeated key is a duplicate (bounded memory).
 */
export class OrderBuffer<T> {
  private heap: Entry<T>[] = [];
  private order = 0;
  private maxEventMs = -Infinity;
  private lastInputWallMs = 0;
  private emittedMs = -Infinity;
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];
  private seenHead = 0;
  /** Items emitted early because the buffer was full. */
  forced = 0;

  constructor(private readonly opts: OrderBufferOptions) {}

  get size(): number {
    return this.heap.length;
  }

  /** The time up to which output is complete. */
  get emittedWatermarkMs(): number {
    return this.emittedMs;
  }

  push(item: T, timeMs: number, key: string, wallMs: number): PushResult {
    if (this.seen.has(key)) return 'duplicate';
    this.remember(key);
    this.lastInputWallMs = wallMs;
    if (timeMs <= this.emittedMs) return 'late';
    if (timeMs > this.maxEventMs) this.maxEventMs = timeMs;
    this.insert({ timeMs, order: this.order++, item });
    return 'buffered';
  }

  watermark(wallMs: number): number {
    const byEvents = this.maxEventMs - this.opts.outOfOrdernessMs;
    const idle = wallMs - this.lastInputWallMs >= this.opts.idleTimeoutMs;
    return idle ? Math.max(byEvents, wallMs - this.opts.outOfOrdernessMs) : byEvents;
  }

  /** Everything the watermark has passed, in event-time order (and the oldest beyond maxBuffered). */
  drain(wallMs: number): { item: T; timeMs: number }[] {
    const wm = this.watermark(wallMs);
    const out: { item: T; timeMs: number }[] = [];
    while (this.heap.length > 0) {
      const top = this.heap[0] as Entry<T>;
      const overfull = this.heap.length > this.opts.maxBuffered;
      if (top.timeMs > wm && !overfull) break;
      if (overfull && top.timeMs > wm) this.forced++;
      out.push({ item: top.item, timeMs: top.timeMs });
      this.emittedMs = Math.max(this.emittedMs, top.timeMs);
      this.popTop();
    }
    if (wm > this.emittedMs && Number.isFinite(wm)) this.emittedMs = wm;
    return out;
  }

  /** Everything, in order, regardless of the watermark (on shutdown). */
  drainAll(): { item: T; timeMs: number }[] {
    const out: { item: T; timeMs: number }[] = [];
    while (this.heap.length > 0) {
      const top = this.heap[0] as Entry<T>;
      out.push({ item: top.item, timeMs: top.timeMs });
      this.emittedMs = Math.max(this.emittedMs, top.timeMs);
      this.popTop();
    }
    return out;
  }

  private remember(key: string): void {
    this.seen.add(key);
    this.seenOrder.push(key);
    if (this.seenOrder.length - this.seenHead > this.opts.dedupCapacity) {
      this.seen.delete(this.seenOrder[this.seenHead++] as string);
      if (this.seenHead > 65_536) {
        this.seenOrder.splice(0, this.seenHead);
        this.seenHead = 0;
      }
    }
  }

  private less(a: Entry<T>, b: Entry<T>): boolean {
    return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.order < b.order);
  }

  private insert(e: Entry<T>): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i] as Entry<T>, h[parent] as Entry<T>)) break;
      [h[i], h[parent]] = [h[parent] as Entry<T>, h[i] as Entry<T>];
      i = parent;
    }
  }

  private popTop(): void {
    const h = this.heap;
    const last = h.pop() as Entry<T>;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l] as Entry<T>, h[m] as Entry<T>)) m = l;
      if (r < h.length && this.less(h[r] as Entry<T>, h[m] as Entry<T>)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m] as Entry<T>, h[i] as Entry<T>];
      i = m;
    }
  }
}
