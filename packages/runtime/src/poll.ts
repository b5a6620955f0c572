import { TransientError } from './errors.js';
import type { Logger, LogSummary } from './logger.js';
import type { StageMetrics } from './metrics.js';

// What every polling bridge (Modbus, SNMP, ...) needs: backoff, the poll grid, abortable sleep, request guards.

/** Resolves after `ms`, or at once when the signal aborts (never rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The promise, or a TransientError after `ms`: a guard so that no request can hang a poller's loop. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransientError(`${what}: no answer in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Wait after `failures` consecutive failures: the poll interval, doubled per failure, capped at maxBackoffMs
 * (never below the poll interval).
 */
export function backoffMs(failures: number, intervalMs: number, maxBackoffMs: number): number {
  const doubled = intervalMs * 2 ** Math.min(Math.max(failures - 1, 0), 30);
  return Math.max(intervalMs, Math.min(doubled, maxBackoffMs));
}

/**
 * The next poll on the device's or target's interval grid that is not in the past, and how many grid ticks were skipped
 * because the previous cycle (reads and publish) overran them. Late cycles never queue up: they are skipped.
 */
export function nextPollAt(
  lastPollMs: number,
  intervalMs: number,
  nowMs: number,
): { atMs: number; skipped: number } {
  const ticks = Math.max(1, Math.ceil((nowMs - lastPollMs) / intervalMs));
  return { atMs: lastPollMs + ticks * intervalMs, skipped: ticks - 1 };
}

/** The message of anything thrown: libraries (modbus-serial, net-snmp) reject with plain objects as well as Errors. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

/**
 * When a device is polled next: on its interval grid while it answers (ticks a slow cycle overran are skipped
 * and counted as `poll-skipped`), after an exponential backoff while it does not (counted as `read-failed`),
 * with one warning when it goes quiet and one line when it answers again.
 */
export class PollScheduler {
  private failures = 0;

  constructor(
    private readonly device: { id: string; pollIntervalMs: number; maxBackoffMs: number },
    readonly metrics: StageMetrics,
    private readonly summaries: { readFailures: LogSummary; skippedPolls: LogSummary },
    readonly log: Logger,
    private readonly says: { quiet: string; back: string },
  ) {}

  /** The time of the next poll, given whether the last cycle reached the device and when it was scheduled. */
  next(unreachable: string | undefined, scheduledMs: number, nowMs = Date.now()): number {
    const { id, pollIntervalMs, maxBackoffMs } = this.device;
    if (unreachable !== undefined) {
      this.failures++;
      this.metrics.messages.inc({ stage: 'ingest', outcome: 'read-failed' });
      this.summaries.readFailures.add(id);
      const waitMs = backoffMs(this.failures, pollIntervalMs, maxBackoffMs);
      if (this.failures === 1) this.log.warn({ err: unreachable, waitMs }, this.says.quiet);
      return nowMs + waitMs;
    }
    if (this.failures > 0) this.log.info({ failures: this.failures }, this.says.back);
    this.failures = 0;
    const { atMs, skipped } = nextPollAt(scheduledMs, pollIntervalMs, nowMs);
    if (skipped > 0) {
      this.metrics.messages.inc({ stage: 'ingest', outcome: 'poll-skipped' }, skipped);
      this.summaries.skippedPolls.add(id, skipped);
    }
    return atMs;
  }
}

/** What the poll loop reads of a cycle: set when the device did not answer, so the next poll backs off. */
export interface PollOutcome {
  unreachable?: string;
}

export interface PollLoopOptions<C extends PollOutcome> {
  signal: AbortSignal;
  /** When to poll next; its device's log and metrics are the loop's too. */
  schedule: PollScheduler;
  /** One cycle: read the device and build what to publish. */
  poll: (startedMs: number) => Promise<C>;
  /** The cycle that stands for one whose poll threw: every point marked bad, `unreachable` set. */
  failed: (startedMs: number, err: unknown) => C;
  /** Publishes the cycle and waits for its PubAcks; false when the bridge stopped first. */
  deliver: (cycle: C) => Promise<boolean>;
}

/**
 * The loop of every polling bridge, one per device: poll, deliver, then sleep to the next tick on the grid (or
 * after a backoff while the device does not answer). A poll that throws is a bug, not a device problem: it is
 * logged loudly and polled again with backoff. Ends when the signal aborts or a delivery is stopped.
 */
export async function runPollLoop<C extends PollOutcome>(o: PollLoopOptions<C>): Promise<void> {
  let scheduled = Date.now();
  while (!o.signal.aborted) {
    const started = Date.now();
    let cycle: C;
    try {
      cycle = await o.poll(started);
    } catch (err) {
      o.schedule.log.error({ err }, 'poll cycle failed unexpectedly');
      cycle = o.failed(started, err);
    }
    if (!(await o.deliver(cycle))) break;
    o.schedule.metrics.batchSeconds.observe({ stage: 'ingest' }, (Date.now() - started) / 1000);
    scheduled = o.schedule.next(cycle.unreachable, scheduled);
    await sleep(scheduled - Date.now(), o.signal);
  }
}
