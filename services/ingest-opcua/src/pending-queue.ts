/**
 * Batches waiting for JetStream, bounded in bytes. OPC UA pushes notifications and cannot be paused without
 * losing them on the server anyway, so when the bound is passed the oldest waiting batches are dropped and
 * returned to the caller to be counted: the freshest values survive an outage. The newest batch and the one
 * being published are never dropped.
 */
export class PendingQueue<T extends { bytes: number }> {
  private readonly waiting: T[] = [];
  private inFlight: T | undefined;
  private held = 0;

  constructor(readonly limitBytes: number) {}

  /** Bytes waiting and in flight. */
  get bytes(): number {
    return this.held;
  }

  get length(): number {
    return this.waiting.length + (this.inFlight ? 1 : 0);
  }

  /** Adds a batch; returns the batches dropped to stay within the bound, oldest first. */
  push(entry: T): T[] {
    this.waiting.push(entry);
    this.held += entry.bytes;
    const dropped: T[] = [];
    while (this.held > this.limitBytes && this.waiting.length > 1) {
      const oldest = this.waiting.shift() as T;
      this.held -= oldest.bytes;
      dropped.push(oldest);
    }
    return dropped;
  }

  /** The oldest waiting batch, now in flight (still counted) until `done`. */
  take(): T | undefined {
    if (this.inFlight) throw new Error('a batch is already in flight');
    this.inFlight = this.waiting.shift();
    return this.inFlight;
  }

  done(entry: T): void {
    if (this.inFlight !== entry) throw new Error('not the batch in flight');
    this.inFlight = undefined;
    this.held -= entry.bytes;
  }

  /** Empties the queue (the batch in flight stays); returns what it held. */
  clear(): T[] {
    const all = this.waiting.splice(0);
    for (const e of all) this.held -= e.bytes;
    return all;
  }
}
