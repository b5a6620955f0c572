import { TransientError } from './errors.js';

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
