import { Counter, type Registry } from 'prom-client';
import { LogSummary, type Logger } from '@busway/runtime';

/** What is known of a refused request. */
export interface Rejection {
  status: number;
  code: string;
  reason: string;
  method: string;
  /** Route path without the query string: a query may be long, and it is in the reason when it matters. */
  path: string;
  ip: string;
  client?: string;
}

/**
 * Logs every refused request with its reason and counts it (`busway_api_rejections_total{status,code}`). The
 * first `burst` in each interval get a line each; the rest of a flood is summarized in one line per interval.
 */
export class Rejections {
  private readonly counter: Counter<'status' | 'code'>;
  private readonly summary: LogSummary;
  private logged = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    registry: Registry,
    private readonly log: Logger,
    private readonly burst = 20,
    intervalMs = 10_000,
  ) {
    this.counter = new Counter({
      name: 'busway_api_rejections_total',
      help: 'API requests refused, by HTTP status and reason code',
      labelNames: ['status', 'code'],
      registers: [registry],
    });
    this.summary = new LogSummary(log, 'API requests refused (beyond the first per interval):', intervalMs);
    this.timer = setInterval(() => (this.logged = 0), intervalMs);
    this.timer.unref();
  }

  record(r: Rejection): void {
    this.counter.inc({ status: String(r.status), code: r.code });
    if (this.logged < this.burst) {
      this.logged++;
      this.log.warn(r, `request refused: ${r.status} ${r.code}: ${r.reason}`);
    } else this.summary.add(`${r.status} ${r.code}`);
  }

  close(): void {
    clearInterval(this.timer);
    this.summary.close();
  }
}
