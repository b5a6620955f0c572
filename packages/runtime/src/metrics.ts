import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The metrics every stage reports, on one registry per worker. */
export class StageMetrics {
  readonly registry = new Registry();
  readonly messages: Counter<'stage' | 'outcome'>;
  readonly samples: Counter<'stage' | 'direction'>;
  readonly deadLetters: Counter<'stage' | 'reason'>;
  readonly duplicates: Counter<'stream'>;
  readonly batchSeconds: Histogram<'stage'>;
  readonly inFlight: Gauge<'stage'>;
  readonly bufferBytes: Gauge<'stage'>;
  readonly bufferLimitBytes: Gauge<'stage'>;
  readonly receiveToAckSeconds: Histogram<'stage'>;
  readonly eventLatencySeconds: Histogram<'stage'>;
  readonly consumerPending: Gauge<'stream' | 'consumer'>;
  readonly consumerAckPending: Gauge<'stream' | 'consumer'>;
  readonly consumerRedelivered: Gauge<'stream' | 'consumer'>;
  readonly consumerWaiting: Gauge<'stream' | 'consumer'>;
  readonly ready: Gauge;
  private readyProbe: () => boolean = () => false;

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
    this.duplicates = new Counter({
      name: 'busway_publish_duplicates_total',
      help: 'Messages published that a stream took for repeats of stored ones (same Nats-Msg-Id within its duplicate window) and did not store again',
      labelNames: ['stream'],
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
    this.bufferLimitBytes = new Gauge({
      name: 'busway_bridge_buffer_limit_bytes',
      help: 'Bytes a bridge may hold before it pauses its source (maxBufferBytes)',
      labelNames: ['stage'],
      registers: [this.registry],
    });
    this.receiveToAckSeconds = new Histogram({
      name: 'busway_receive_to_ack_seconds',
      help: 'Per message: fetched from the consumer until acked, nak-ed or dead-lettered (held messages excluded)',
      labelNames: ['stage'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.eventLatencySeconds = new Histogram({
      name: 'busway_event_latency_seconds',
      help: 'Per message: its ce-time (when the occurrence happened, kept from the source) until this stage processed it',
      labelNames: ['stage'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [this.registry],
    });
    const consumerGauge = (name: string, help: string) =>
      new Gauge({ name, help, labelNames: ['stream', 'consumer'], registers: [this.registry] });
    this.consumerPending = consumerGauge(
      'busway_consumer_pending_messages',
      'Messages in the stream not yet delivered to the durable consumer (num_pending): its lag',
    );
    this.consumerAckPending = consumerGauge(
      'busway_consumer_ack_pending_messages',
      'Messages delivered and not yet acknowledged (num_ack_pending); maxAckPending caps it',
    );
    this.consumerRedelivered = consumerGauge(
      'busway_consumer_redelivered_messages',
      'Messages delivered more than once and not yet acknowledged (num_redelivered)',
    );
    this.consumerWaiting = consumerGauge(
      'busway_consumer_waiting_pulls',
      'Pull requests waiting at the server (num_waiting): a consumer with none is not being read',
    );
    this.ready = new Gauge({
      name: 'busway_worker_ready',
      help: '1 while the worker is connected and consuming (what /readyz answers), else 0',
      registers: [this.registry],
      collect: () => this.ready.set(this.readyProbe() ? 1 : 0),
    });
  }

  /**
   * Exports `busway_registry_version`, read from `version` at each scrape: which site model this process
   * holds, so an operator sees a registry change reach every replica (before a `busway redrive`, say). Only
   * workers that read the registry call it.
   */
  reportRegistryVersion(version: () => number): void {
    if (this.registry.getSingleMetric('busway_registry_version')) return;
    const gauge: Gauge = new Gauge({
      name: 'busway_registry_version',
      help: 'Version of the asset registry (site model) this process holds',
      registers: [this.registry],
      collect: () => gauge.set(version()),
    });
  }

  /** Where `busway_worker_ready` reads readiness from at each scrape. */
  reportReady(probe: () => boolean): void {
    this.readyProbe = probe;
  }

  /** Event time → processed for one message, from its `ce-time`; ignored when absent or unparseable. */
  observeEventTime(stage: string, ceTime: string | undefined, nowMs = Date.now()): void {
    const t = ceTime ? Date.parse(ceTime) : Number.NaN;
    // a source clock ahead of ours gives a negative age: counted as 0, not dropped
    if (Number.isFinite(t)) this.eventLatencySeconds.observe({ stage }, Math.max(0, nowMs - t) / 1000);
  }

  /** Counter value for one label set, for summaries and the demo's report. */
  async value(name: string, labels: Record<string, string>): Promise<number> {
    const metric = await this.registry.getSingleMetric(name)?.get();
    const match = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
    return match?.value ?? 0;
  }
}
