import type { MetricDef } from './decoder.js';
import { PointTable } from './points.js';

/** What the host remembers per edge node and device: births (aliases), the last seq, last values. */
export class NodeState {
  readonly byAlias = new Map<number, MetricDef>();
  readonly byName = new Map<string, MetricDef>();
  /** Its metrics (leaves) by name: point ids, and last values to mark stale on a death. */
  readonly points: PointTable;
  bdSeq?: number;
  /** The AUDIT sequence of the birth in force (none when restored from the KV bucket). */
  birthSeq?: number;
  lastSeq?: number;
  /** Messages counted since the first seq, across wraps of seq: where in the sequence `lastSeq` is. */
  position = 0;
  /** Seqs skipped over and not seen yet, with the position each was due at; a timer asks for a rebirth if they stay missing. */
  readonly missing = new Map<number, number>();
  gapTimer?: NodeJS.Timeout;
  /** The batch's source field (tag, length, SourceRef) for the topic it was last made for. */
  sourceField?: { topic: string; bytes: Uint8Array };

  /** `sourceId`: <group>/<edge>[/<device>]. */
  constructor(sourceId: string) {
    this.points = new PointTable(sourceId);
  }

  /** Forgets a gap: the missing seqs arrived, or a birth restarted the sequence. */
  clearGap(): void {
    this.missing.clear();
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }

  clearDefinitions(): void {
    this.byAlias.clear();
    this.byName.clear();
    this.points.forgetPositions();
  }
}

/** The seq that must follow `prev` (0..255, wrapping). */
export function nextSeq(prev: number): number {
  return (prev + 1) % 256;
}
