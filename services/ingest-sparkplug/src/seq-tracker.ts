/** Half of seq's range: a missing seq this far behind is lost, not late. */
const HALF_SEQ = 128;

/** The seq that must follow `prev` (0..255, wrapping). */
export function nextSeq(prev: number): number {
  return (prev + 1) % 256;
}

/** What one message's seq told about its node's sequence. */
export interface SeqStep {
  /** It jumped ahead: the seqs skipped are missing now. */
  gap: boolean;
  /** A missing seq will not come any more: the sequence is half its range past it. */
  lost: boolean;
  /** Seqs still missing (late ones may fill them). */
  missing: number;
}

/**
 * A Sparkplug node's `seq` (0..255, wrapping). A jump records the skipped seqs as missing; a late seq fills its
 * gap and never moves the sequence back; a repeat changes nothing. A missing seq the sequence has gone half its
 * range past is lost: were it taken for late when its value came round again, every wrap would open the same
 * gap anew. Positions count messages across wraps, so the two are told apart.
 */
export class SeqTracker {
  private last?: number;
  /** Messages counted since the first seq: where in the sequence `last` is. */
  private position = 0;
  /** Seqs skipped over and not seen yet, with the position each was due at. */
  private readonly due = new Map<number, number>();

  /** A birth: the sequence starts again at `seq`, nothing missing. */
  restart(seq: number): void {
    this.due.clear();
    this.last = seq;
  }

  /** Forgets what is missing (the node was asked to rebirth). */
  forgetMissing(): void {
    this.due.clear();
  }

  observe(seq: number): SeqStep {
    if (this.last === undefined) {
      this.restart(seq);
      return { gap: false, lost: false, missing: 0 };
    }
    const dueAt = this.due.get(seq);
    if (dueAt !== undefined && this.position - dueAt < HALF_SEQ) {
      this.due.delete(seq);
      return { gap: false, lost: false, missing: this.due.size };
    }
    const ahead = (seq - this.last + 256) % 256;
    // behind the last seq and not missing: a repeat of an earlier message
    if (ahead === 0 || (ahead > HALF_SEQ && dueAt === undefined))
      return { gap: false, lost: false, missing: this.due.size };
    const position = this.position + ahead;
    let lost = false;
    for (const [s, at] of this.due)
      if (position - at >= HALF_SEQ) {
        this.due.delete(s);
        lost = true;
      }
    for (let s = nextSeq(this.last), at = this.position + 1; s !== seq; s = nextSeq(s), at++)
      this.due.set(s, at);
    this.position = position;
    this.last = seq;
    return { gap: ahead > 1, lost, missing: this.due.size };
  }
}
