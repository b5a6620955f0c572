import { Counter, Gauge, type Registry } from 'prom-client';

/** The rollup worker's own metrics, beside the runtime's stage metrics. */
export class RollupMetrics {
  readonly rollups: Counter<'period'>;
  readonly skipped: Counter<'reason'>;
  readonly openWindows: Gauge<'period'>;
  readonly closedThrough: Gauge<'period'>;

  constructor(registry: Registry) {
    this.rollups = new Counter({
      name: 'busway_rollups_total',
      help: 'Rollups published (one per point and closed window), by period',
      labelNames: ['period'],
      registers: [registry],
    });
    this.skipped = new Counter({
      name: 'busway_rollup_skipped_samples_total',
      help: 'Samples not rolled up: no-path, not-numeric, bad-quality, repeat, late (window already closed)',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.openWindows = new Gauge({
      name: 'busway_rollup_open_windows',
      help: 'Windows holding samples that have not closed yet, by period',
      labelNames: ['period'],
      registers: [registry],
    });
    this.closedThrough = new Gauge({
      name: 'busway_rollup_closed_through_seconds',
      help: 'Event time (Unix seconds) up to which every window of the period is published',
      labelNames: ['period'],
      registers: [registry],
    });
  }
}
