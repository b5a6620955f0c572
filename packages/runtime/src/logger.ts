import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** One structured logger per worker; context (stream, consumer) is bound with `.child()`. */
export function createLogger(worker: string, level = 'info'): Logger {
  return pino({ name: 'busway', level, base: { worker } });
}

/**
 * Summarizes a flood of alike events into one line per interval:
 * "dead-lettered 312 messages in the last 10 s (decode-error: 300, unit-mismatch: 12)".
 */
export class LogSummary {
  private counts = new Map<string, number>();
  private timer: NodeJS.Timeout;

  constructor(
    private readonly log: Logger,
    private readonly what: string,
    private readonly intervalMs = 10_000,
  ) {
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  add(reason: string, n = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + n);
  }

  flush(): void {
    if (this.counts.size === 0) return;
    let total = 0;
    const parts: string[] = [];
    for (const [reason, n] of this.counts) {
      total += n;
      parts.push(`${reason}: ${n}`);
    }
    this.counts.clear();
    this.log.warn(
      { total },
      `${this.what} ${total} in the last ${this.intervalMs / 1000} s (${parts.join(', ')})`,
    );
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
