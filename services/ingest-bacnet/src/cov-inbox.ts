import { PropertyIdentifier } from '@bacnet-js/client';
import { type busway, nowNs } from '@busway/proto';
import type { Logger, PollDelivery, PollFault, WorkerRuntime } from '@busway/runtime';
import type { DeviceConfig } from './config.js';
import type { BacnetConnection, CovNotification } from './connection.js';
import { propertyReadOf } from './convert.js';
import type { Subscription } from './cov.js';
import type { Stamp, StampClock } from './sample.js';
import type { DeviceSampler } from './sampler.js';
import { STAGE, type Summaries } from './summaries.js';

interface Entry {
  n: CovNotification;
  subscription: Subscription;
  stamp: Stamp;
}

export interface InboxParts {
  conn: BacnetConnection;
  sampler: DeviceSampler;
  delivery: PollDelivery;
  clock: StampClock;
  summaries: Summaries;
  log: Logger;
}

const PRESENT_VALUE: number = PropertyIdentifier.PRESENT_VALUE;
const STATUS_FLAGS: number = PropertyIdentifier.STATUS_FLAGS;

const keyOf = (n: CovNotification) => `${n.sender}#${n.invokeId}`;

/**
 * A device's COV notifications on their way to JetStream, one SampleBatch each, in arrival order, each stored
 * before the next. A confirmed notification is acknowledged only once stored. The queue is bounded: while
 * JetStream is slow the oldest are dropped and counted (a dropped confirmed one is never acknowledged, so the
 * device sends it again).
 */
export class CovInbox {
  private readonly queue: Entry[] = [];
  private readonly faults: PollFault[] = [];
  /** Confirmed notifications not yet acknowledged: a retransmission of one is not queued twice. */
  private readonly unacknowledged = new Set<string>();
  private wake?: () => void;
  private running?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly device: DeviceConfig,
    private readonly parts: InboxParts,
    private readonly limit: number,
  ) {}

  start(): void {
    this.running = this.run();
  }

  /** Ends once what is queued is stored, or at the first refused publish after the bridge's abort. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
  }

  push(n: CovNotification, subscription: Subscription): void {
    this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'cov-received' });
    if (n.confirmed) {
      if (this.unacknowledged.has(keyOf(n))) {
        this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'cov-retransmitted' });
        return;
      }
      this.unacknowledged.add(keyOf(n));
    }
    this.queue.push({ n, subscription, stamp: { ms: this.parts.clock.next(), ingestTimeNs: nowNs() } });
    while (this.queue.length > this.limit) {
      const dropped = this.queue.shift();
      if (dropped?.n.confirmed) this.unacknowledged.delete(keyOf(dropped.n));
      this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'cov-dropped' });
      this.parts.summaries.covDropped.add(this.device.id);
    }
    this.wake?.();
  }

  fault(f: PollFault): void {
    this.faults.push(f);
    this.wake?.();
  }

  private async run(): Promise<void> {
    for (;;) {
      const entry = this.queue.shift();
      const faults = this.faults.splice(0);
      if (!entry && faults.length === 0) {
        if (this.stopping) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const samples = entry ? [this.sampleOf(entry, faults)] : [];
      const delivered = await this.parts.delivery.deliver({
        pollMs: entry?.stamp.ms ?? this.parts.clock.next(),
        samples,
        faults,
        original: entry ? [entry.n] : undefined,
      });
      if (!delivered) return;
      if (entry?.n.confirmed) {
        this.parts.conn.ackCov(entry.n);
        this.unacknowledged.delete(keyOf(entry.n));
      }
    }
  }

  private sampleOf(entry: Entry, faults: PollFault[]): busway.v1.ISample {
    const values = (id: number) => entry.n.properties.find((p) => p.propertyId === id)?.values;
    const pv = values(PRESENT_VALUE);
    const flags = values(STATUS_FLAGS);
    return this.parts.sampler.sample(
      entry.stamp,
      entry.subscription.object,
      {
        presentValue: pv ? propertyReadOf(pv) : { error: 'a COV notification without it' },
        statusFlags: flags ? propertyReadOf(flags) : undefined,
      },
      faults,
    );
  }
}
