import type { busway } from '@busway/proto';
import type { MetricDef } from './decoder.js';

/** What the host remembers per edge node and device: births (aliases), the last seq, last values. */
export class NodeState {
  readonly byAlias = new Map<number, MetricDef>();
  readonly byName = new Map<string, MetricDef>();
  /** Metric (leaf) name -> point id. */
  readonly pointIds = new Map<string, string>();
  /** Last sample of every metric, to mark stale on a death. */
  readonly last = new Map<string, busway.v1.ISample>();
  bdSeq?: number;
  lastSeq?: number;
  /** Seqs skipped over and not seen yet; a timer asks for a rebirth if they stay missing. */
  readonly missing = new Set<number>();
  gapTimer?: NodeJS.Timeout;

  /** Forgets a gap: the missing seqs arrived, or a birth restarted the sequence. */
  clearGap(): void {
    this.missing.clear();
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }

  clearDefinitions(): void {
    this.byAlias.clear();
    this.byName.clear();
  }
}

/** The seq that must follow `prev` (0..255, wrapping). */
export function nextSeq(prev: number): number {
  return (prev + 1) % 256;
}
