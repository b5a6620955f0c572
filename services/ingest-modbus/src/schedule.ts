/**
 * Wait after `failures` consecutive failures: the poll interval, doubled per failure, capped at maxBackoffMs
 * (never below the poll interval).
 */
export function backoffMs(failures: number, intervalMs: number, maxBackoffMs: number): number {
  const doubled = intervalMs * 2 ** Math.min(Math.max(failures - 1, 0), 30);
  return Math.max(intervalMs, Math.min(doubled, maxBackoffMs));
}

/**
 * The next poll on the device's interval grid that is not in the past, and how many grid ticks were skipped
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
