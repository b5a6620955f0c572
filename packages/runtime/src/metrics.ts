import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The metrics every stage reports, on one registry per worker. */
export class StageMetrics {
  readonly registry = new Registry();
  readonly messages: Counter<'stage' | 'outcome'>;
  readonly samples: Counter<'stage' | 'direction'>;
  readonly deadLetters: Counter<'stage' | 'reason'>;
  readonly batchSeconds: Histogram<'stage'>;
  readonly inFlight: Gauge<'stage'>;
  readonly bufferBytes: Gauge<'stage'>;

  constructor(worker: string) {
    this.registry.setDefaultLabels({ worker });
    collectDefaultMetrics({ register: this.registry, prefix: 'busway_' });
    this.messages = new Counter({
      name: 'busway_messages_total',
      help: 'Fabric messages handled, by outcome (ack, nak, dead-letter, held)',
      labelNames: ['stage', 'outcome'],
      registers: [this.registry],
    });
    this.samples = new Counter({
      name: 'busway_samples_total',
      help: 'Samples, events or scores read (in) and written (out) by a stage',
      labelNames: ['stage', 'direction'],
      registers: [this.registry],
    });
    this.deadLetters = new Counter({
      name: 'busway_dead_letters_total',
      help: 'Messages sent to the dead-letter subject, by reason code',
      labelNames: ['stage', 'reason'],
      registers: [this.registry],
    });
    this.batchSeconds = new Histogram({
      name: 'busway_batch_duration_seconds',
      help: 'Time to process one fetched batch, publishes included',
      labelNames: ['stage'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.inFlight = new Gauge({
      name: 'busway_messages_in_flight',
      help: 'Messages fetched and not yet acknowledged (held in buffers included)',
      labelNames: ['stage'],
      registers: [this.registry],
    });
    this.bufferBytes = new Gauge({
      name: 'busway_bridge_buffer_bytes',
      help: 'Bytes an ingest bridge holds that JetStream has not acknowledged yet',
      labelNames: ['stage'],
      registers: [this.registry],
    });
  }

  /** Counter value for one label set, for summaries and the demo's report. */
  async value(name: string, labels: Record<string, string>): Promise<number> {
    const metric = await this.registry.getSingleMetric(name)?.get();
    const match = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return match?.value ?? 0;
  }
}
