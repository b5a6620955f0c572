// ReportSequence bookkeeping per report: repeats are dropped, gaps counted, a restarted BMC recognized.

/** What a report's sequence says about it. */
export type SequenceVerdict =
  { kind: 'new'; missed: bigint } | { kind: 'repeat' } | { kind: 'reset'; from: bigint; to: bigint };

interface ReportState {
  last?: bigint;
  /** Recent sequences (or, without one, fingerprints) and the fingerprint each came with. */
  seen: Map<string, string>;
}

/**
 * Remembers, per report id, the highest ReportSequence and the fingerprints of the last `window` reports.
 * The same sequence with the same content is a repeat (a re-sent or re-polled report). A sequence above the
 * highest is new, and the numbers skipped are missed reports. A sequence at or below the highest with other content
 * means the service restarted its count (a BMC reboot): accepted, and counting starts again from it. A report
 * without a sequence is a repeat only when its content was seen. Memory is bounded by `window` and `maxReports`.
 */
export class SequenceTracker {
  private readonly reports = new Map<string, ReportState>();

  constructor(
    private readonly window = 256,
    private readonly maxReports = 1024,
  ) {}

  observe(reportId: string, sequence: bigint | undefined, fingerprint: string): SequenceVerdict {
    const state = this.stateOf(reportId);
    const key = sequence === undefined ? `#${fingerprint}` : sequence.toString();
    if (state.seen.get(key) === fingerprint) return { kind: 'repeat' };
    this.remember(state, key, fingerprint);
    if (sequence === undefined) return { kind: 'new', missed: 0n };
    const last = state.last;
    state.last = sequence;
    if (last === undefined) return { kind: 'new', missed: 0n };
    if (sequence > last) return { kind: 'new', missed: sequence - last - 1n };
    // counting started again: forget the old run so its numbers are not taken for repeats
    state.seen.clear();
    this.remember(state, key, fingerprint);
    return { kind: 'reset', from: last, to: sequence };
  }

  private stateOf(reportId: string): ReportState {
    let state = this.reports.get(reportId);
    if (!state) {
      if (this.reports.size >= this.maxReports) {
        const oldest = this.reports.keys().next().value;
        if (oldest !== undefined) this.reports.delete(oldest);
      }
      state = { seen: new Map() };
      this.reports.set(reportId, state);
    }
    return state;
  }

  private remember(state: ReportState, key: string, fingerprint: string): void {
    state.seen.delete(key);
    state.seen.set(key, fingerprint);
    if (state.seen.size > this.window) {
      const oldest = state.seen.keys().next().value;
      if (oldest !== undefined) state.seen.delete(oldest);
    }
  }
}
