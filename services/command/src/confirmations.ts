import type { Reading } from './point-watch.js';
import type { CommandValue } from './validate.js';

/** A sent command waiting for its readback to reach the setpoint. */
export interface Pending {
  commandId: string;
  readbackPointId: string;
  target: CommandValue;
  tolerance: number;
  /** Only values read at or after this (event time, ms) count: an older value shows the old setpoint. */
  sentAtMs: number;
  deadlineMs: number;
}

export type ConfirmOutcome = { kind: 'confirmed'; reading: Reading } | { kind: 'timed-out'; last?: Reading };

/** Whether a reading shows the setpoint: a good value, read after sending, within the tolerance. */
export function reaches(p: Pending, r: Reading): boolean {
  if (!r.good || r.timeMs < p.sentAtMs) return false;
  if (typeof p.target === 'boolean')
    return typeof r.value === 'boolean' ? r.value === p.target : (r.value !== 0) === p.target;
  return typeof r.value === 'number' && Math.abs(r.value - p.target) <= p.tolerance;
}

/**
 * Tracks sent commands until their readback point reaches the setpoint (confirmed) or the deadline passes
 * (timed out). Each pending command settles exactly once.
 */
export class Confirmations {
  private readonly byPoint = new Map<string, Map<string, Pending>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly lastSeen = new Map<string, Reading>();

  constructor(private readonly settle: (p: Pending, outcome: ConfirmOutcome) => void) {}

  get size(): number {
    return this.timers.size;
  }

  /** Starts tracking; `current` is the newest reading known now (it may already show the setpoint). */
  track(p: Pending, current: Reading | undefined, nowMs = Date.now()): void {
    if (this.timers.has(p.commandId)) return;
    if (current && reaches(p, current)) return this.settle(p, { kind: 'confirmed', reading: current });
    if (nowMs >= p.deadlineMs) return this.settle(p, { kind: 'timed-out', last: current });
    let points = this.byPoint.get(p.readbackPointId);
    if (!points) this.byPoint.set(p.readbackPointId, (points = new Map()));
    points.set(p.commandId, p);
    const timer = setTimeout(
      () => this.finish(p, { kind: 'timed-out', last: this.lastSeen.get(p.readbackPointId) }),
      p.deadlineMs - nowMs,
    );
    this.timers.set(p.commandId, timer);
  }

  /** A new reading of a point: confirms every pending command it reaches. */
  offer(pointId: string, r: Reading): void {
    const points = this.byPoint.get(pointId);
    if (!points) return;
    this.lastSeen.set(pointId, r);
    for (const p of [...points.values()])
      if (reaches(p, r)) this.finish(p, { kind: 'confirmed', reading: r });
  }

  private finish(p: Pending, outcome: ConfirmOutcome): void {
    const timer = this.timers.get(p.commandId);
    if (!timer) return; // settled already
    clearTimeout(timer);
    this.timers.delete(p.commandId);
    const points = this.byPoint.get(p.readbackPointId);
    points?.delete(p.commandId);
    if (points?.size === 0) {
      this.byPoint.delete(p.readbackPointId);
      this.lastSeen.delete(p.readbackPointId);
    }
    this.settle(p, outcome);
  }

  /** Stops every timer; pending commands are resumed from their records after a restart. */
  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.byPoint.clear();
  }
}
