/** A slab and the messages copied into it that are still out, by where they start. */
interface Slab {
  bytes: Buffer;
  out: Map<number, Uint8Array>;
}

/**
 * Memory for encoded messages: each is copied after the one before it into a shared slab and handed out as a
 * view of it. A slab whose messages have all been given back (`release`) is reused for later ones, because
 * fresh memory costs a page fault per 4 KiB on first touch: in the Sparkplug bridge a 15 KB message took
 * 36-54 µs to copy into new slabs and 5-8 µs into reused ones. A message that is never given back only keeps
 * its slab from being reused; a message given back while still read would be overwritten, so release only
 * what nothing reads any more (e.g. once JetStream has stored it).
 */
export class SlabPool {
  private current: Slab;
  private pos = 0;
  private readonly free: Slab[] = [];
  private readonly slabs = new WeakMap<ArrayBufferLike, Slab>();

  constructor(
    private readonly slabBytes = 256 * 1024,
    /** Slabs kept for reuse at most; more are left to the garbage collector. */
    private readonly maxFree = 8,
  ) {
    this.current = this.make(slabBytes);
  }

  /** The first `n` bytes of `from`, as a view of a slab. */
  copy(from: Buffer, n: number): Buffer {
    if (n === 0) return Buffer.alloc(0); // no slab: its offset would be the next message's
    if (this.pos + n > this.current.bytes.length) this.next(n);
    const slab = this.current;
    from.copy(slab.bytes, this.pos, 0, n);
    const out = slab.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    slab.out.set(out.byteOffset, out);
    return out;
  }

  /**
   * Gives back a message `copy` handed out, once nothing reads it; anything else is ignored. A message given
   * back twice throws, even when its place has been handed out again in between: the view itself is checked,
   * so a late second release can never free the message now there.
   */
  release(message: Uint8Array): void {
    const slab = this.slabs.get(message.buffer);
    if (slab === undefined) return;
    // a map of offsets to views, not a WeakSet: ephemerons cost the garbage collector a pass per message
    if (slab.out.get(message.byteOffset) !== message)
      throw new Error('a message was given back to its slab twice');
    slab.out.delete(message.byteOffset);
    if (slab.out.size === 0 && slab !== this.current) this.recycle(slab);
  }

  private next(n: number): void {
    const done = this.current;
    if (done.out.size === 0) this.recycle(done);
    this.current =
      (n <= this.slabBytes ? this.free.pop() : undefined) ?? this.make(Math.max(this.slabBytes, n));
    this.pos = 0;
  }

  private recycle(slab: Slab): void {
    if (slab.bytes.length === this.slabBytes && this.free.length < this.maxFree) this.free.push(slab);
  }

  private make(size: number): Slab {
    const slab = { bytes: Buffer.allocUnsafeSlow(size), out: new Map<number, Uint8Array>() };
    this.slabs.set(slab.bytes.buffer, slab);
    return slab;
  }
}
