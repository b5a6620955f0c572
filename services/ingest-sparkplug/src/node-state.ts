import type { MetricDef } from './decoder.js';
import { PointTable } from './points.js';
import { SeqTracker } from './seq-tracker.js';

/** What the host remembers per edge node and device: births (aliases), the last seq, last values. */
export class NodeState {
  readonly byAlias = new Map<number, MetricDef>();
  readonly byName = new Map<string, MetricDef>();
  /** Its metrics (leaves) by name: point ids, and last values to mark stale on a death. */
  readonly points: PointTable;
  bdSeq?: number;
  /** The AUDIT sequence of the birth in force (none when restored from the KV bucket). */
  birthSeq?: number;
  /** Its `seq` (a node's; a device's is unused): what is missing, which the gap timer asks a rebirth for. */
  readonly seq = new SeqTracker();
  gapTimer?: NodeJS.Timeout;
  /** The batch's source field (tag, length, SourceRef) for the topic it was last made for. */
  sourceField?: { topic: string; bytes: Uint8Array };

  /** `sourceId`: <group>/<edge>[/<device>]. */
  constructor(sourceId: string) {
    this.points = new PointTable(sourceId);
  }

  /** Forgets a gap: the missing seqs arrived, were given up, or a birth restarted the sequence. */
  clearGap(): void {
    this.seq.forgetMissing();
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }

  clearDefinitions(): void {
    this.byAlias.clear();
    this.byName.clear();
    this.points.forgetPositions();
  }
}
