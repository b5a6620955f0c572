import { Counter, Gauge, type Registry } from 'prom-client';

/** The correlator's own metrics, labelled by partition; registered on the worker's registry. */
export class CorrelatorMetrics {
  readonly watermarkLag: Gauge<'partition'>;
  readonly buffered: Gauge<'partition'>;
  readonly late: Counter<'partition' | 'outcome'>;
  readonly duplicates: Counter<'partition'>;
  readonly forced: Counter<'partition'>;
  readonly incidents: Counter<'kind'>;
  readonly openWindows: Gauge<'partition'>;
  readonly keys: Gauge<'partition'>;
  readonly checkpoints: Counter<'partition' | 'outcome'>;
  readonly checkpointBytes: Gauge<'partition'>;
  readonly mismatched: Counter<'partition'>;
  readonly events: Counter<'partition'>;
  readonly partitions: Gauge;

  constructor(reg: Registry) {
    const registers = [reg];
    this.watermarkLag = new Gauge({
      name: 'busway_watermark_lag_seconds',
      help: 'Wall clock minus the released watermark (event time), per partition',
      labelNames: ['partition'],
      registers,
    });
    this.buffered = new Gauge({
      name: 'busway_reorder_buffer_size',
      help: 'Samples and events waiting for the watermark',
      labelNames: ['partition'],
      registers,
    });
    this.late = new Counter({
      name: 'busway_late_samples_total',
      help: 'Samples behind the watermark: re-emitted (within the allowed lateness, flagged late) or dropped to ordered.v1.late.*',
      labelNames: ['partition', 'outcome'],
      registers,
    });
    this.duplicates = new Counter({
      name: 'busway_duplicate_samples_total',
      help: 'Repeated samples (same point, event time and sequence) removed',
      labelNames: ['partition'],
      registers,
    });
    this.forced = new Counter({
      name: 'busway_correlator_forced_total',
      help: 'Samples released before the watermark because the reorder buffer was full (maxBuffered)',
      labelNames: ['partition'],
      registers,
    });
    this.incidents = new Counter({
      name: 'busway_incidents_total',
      help: 'Incidents emitted, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.openWindows = new Gauge({
      name: 'busway_correlator_open_windows',
      help: 'Correlation windows open (job chains, unexplained steps awaiting a decision, grid signals)',
      labelNames: ['partition'],
      registers,
    });
    this.keys = new Gauge({
      name: 'busway_correlator_dedup_keys',
      help: 'Points whose recent identities are remembered for dedup (at most maxKeys)',
      labelNames: ['partition'],
      registers,
    });
    this.checkpoints = new Counter({
      name: 'busway_correlator_checkpoints_total',
      help: 'Checkpoints written to Redis, by outcome',
      labelNames: ['partition', 'outcome'],
      registers,
    });
    this.checkpointBytes = new Gauge({
      name: 'busway_correlator_checkpoint_bytes',
      help: 'Size of the last checkpoint',
      labelNames: ['partition'],
      registers,
    });
    this.mismatched = new Counter({
      name: 'busway_correlator_partition_mismatch_total',
      help: "Sample messages whose partition suffix disagrees with partitionCount/partitionBy: the server's mapping differs",
      labelNames: ['partition'],
      registers,
    });
    this.events = new Counter({
      name: 'busway_correlator_events_total',
      help: 'Job and grid events taken in (busway_samples_total counts samples only)',
      labelNames: ['partition'],
      registers,
    });
    this.partitions = new Gauge({
      name: 'busway_correlator_partitions_owned',
      help: 'Partitions this replica owns',
      registers,
    });
  }
}
