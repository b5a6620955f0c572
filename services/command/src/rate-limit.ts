const MINUTE_MS = 60_000;

/**
 * Rate limits of accepted commands: per point (at most one per its rule's minIntervalMs) and per requester
 * (at most `requesterMaxPerMinute` in any sliding minute, over every point). Rebuilt from the command records
 * at start, so a restart does not open a burst.
 */
export class RateLimits {
  private readonly lastByPoint = new Map<string, number>();
  private readonly byRequester = new Map<string, number[]>();

  constructor(private readonly requesterMaxPerMinute: number) {}

  /** Why a command now would exceed a limit, or undefined when it would not. */
  check(pointId: string, minIntervalMs: number, requester: string, nowMs: number): string | undefined {
    const last = this.lastByPoint.get(pointId);
    if (last !== undefined && nowMs - last < minIntervalMs)
      return `${pointId} was commanded ${Math.max(0, nowMs - last)} ms ago; its rule allows one command per ${minIntervalMs} ms`;
    const recent = this.recent(requester, nowMs);
    if (recent.length >= this.requesterMaxPerMinute)
      return `'${requester}' has had ${recent.length} commands accepted in the last minute; the limit is ${this.requesterMaxPerMinute}`;
    return undefined;
  }

  /** Counts an accepted command. */
  record(pointId: string, requester: string, atMs: number): void {
    const last = this.lastByPoint.get(pointId);
    if (last === undefined || atMs > last) this.lastByPoint.set(pointId, atMs);
    const recent = this.recent(requester, atMs);
    recent.push(atMs);
    recent.sort((a, b) => a - b);
    this.byRequester.set(requester, recent);
  }

  private recent(requester: string, nowMs: number): number[] {
    const kept = (this.byRequester.get(requester) ?? []).filter((t) => nowMs - t < MINUTE_MS);
    this.byRequester.set(requester, kept);
    return kept;
  }
}
