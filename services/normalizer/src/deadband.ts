import { type busway, msFromTimeNs } from '@busway/proto';

interface Reported {
  value: number;
  quality: number;
  timeMs: number;
}

/**
 * Report by exception: a sample of a point with a deadband is held back when its value is within the
 * deadband of the last reported one, its quality is unchanged, and the last report is younger than
 * `maxSilenceMs` (so a quiet point still proves it is alive). Decisions are staged per batch and committed
 * only once the batch is published: a redelivered batch is judged against what really went out.
 */
export class Deadband {
  private readonly reported = new Map<string, Reported>();

  constructor(private readonly maxSilenceMs: number) {}

  /** Points remembered (those with a deadband that reported at least once). */
  get size(): number {
    return this.reported.size;
  }

  /** A staging area for one batch. */
  stage(): DeadbandBatch {
    return new DeadbandBatch(this.reported, this.maxSilenceMs);
  }
}

export class DeadbandBatch {
  private readonly staged = new Map<string, Reported>();

  constructor(
    private readonly reported: Map<string, Reported>,
    private readonly maxSilenceMs: number,
  ) {}

  /** Whether a normalized sample goes out; `deadband` undefined means every sample does. */
  keep(s: busway.v1.ISample, deadband: number | undefined): boolean {
    if (deadband === undefined || s.doubleValue == null || !s.pointId) return true;
    return this.keepValue(s.pointId, s.doubleValue, s.quality ?? 0, msFromTimeNs(s.eventTimeNs), deadband);
  }

  /** The same decision from the values themselves (the fast path has no sample object). */
  keepValue(pointId: string, value: number, quality: number, timeMs: number, deadband: number): boolean {
    const last = this.staged.get(pointId) ?? this.reported.get(pointId);
    const hold =
      last !== undefined &&
      last.quality === quality &&
      Math.abs(value - last.value) <= deadband &&
      timeMs >= last.timeMs && // an older sample (late, replayed) is never judged against a newer one
      timeMs - last.timeMs < this.maxSilenceMs;
    if (!hold && (last === undefined || timeMs >= last.timeMs))
      this.staged.set(pointId, { value, quality, timeMs });
    return !hold;
  }

  /** The batch went out: what it reported becomes the reference. */
  commit(): void {
    for (const [k, v] of this.staged) this.reported.set(k, v);
  }
}
