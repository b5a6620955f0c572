import type { busway } from '@busway/proto';
import type { MetricDef } from './decoder.js';

/** What the host remembers per edge node and device: births (aliases), the last seq, last values. */
export class NodeState {
  readonly byAlias = new Map<number, MetricDef>();
  readonly byName = new Map<string, MetricDef>();
  /** Last sample of every metric, to mark stale on a death. */
  readonly last = new Map<string, busway.v1.ISample>();
  bdSeq?: number;
  lastSeq?: number;

  clearDefinitions(): void {
    this.byAlias.clear();
    this.byName.clear();
  }
}

/** The seq that must follow `prev` (0..255, wrapping). */
export function nextSeq(prev: number): number {
  return (prev + 1) % 256;
}
