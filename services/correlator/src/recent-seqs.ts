/**
 * The last `capacity` stream sequences of one input that this process has ingested: a message JetStream delivers
 * again (its ack lost when a NATS node went away, or the pull that carried it failed after the server sent it)
 * is recognized by its sequence and never pushed twice. Bounded: a ring and a set of `capacity` numbers.
 */
export class RecentSeqs {
  private readonly ring: Float64Array;
  private readonly set = new Set<number>();
  private next = 0;

  constructor(private readonly capacity: number) {
    this.ring = new Float64Array(capacity).fill(Number.NaN);
  }

  has(seq: number): boolean {
    return this.set.has(seq);
  }

  add(seq: number): void {
    if (this.set.has(seq)) return;
    const old = this.ring[this.next] as number;
    if (!Number.isNaN(old)) this.set.delete(old);
    this.ring[this.next] = seq;
    this.set.add(seq);
    this.next = (this.next + 1) % this.capacity;
  }

  clear(): void {
    this.set.clear();
    this.ring.fill(Number.NaN);
    this.next = 0;
  }
}
