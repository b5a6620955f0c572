import type { OPCUACertificateManager } from 'node-opcua';
import { nowNs, type busway } from '@busway/proto';
import type { Logger, WorkerRuntime } from '@busway/runtime';
import { pendingBatchesOf, type PendingBatch } from './batch.js';
import type { EndpointConfig } from './config.js';
import { convertDataValue, type RejectedValue } from './convert.js';
import { BatchDelivery, STAGE } from './delivery.js';
import { PendingQueue } from './pending-queue.js';
import { EndpointSession, type MonitoredValue } from './session.js';
import { pointsOf } from './subscribe.js';
import type { Summaries } from './summaries.js';

/** What the endpoints of one bridge share. */
export interface EndpointShared {
  certificates: OPCUACertificateManager;
  summaries: Summaries;
  maxBufferBytes: number;
  /** A queue's size changed. */
  onBytes: () => void;
}

/**
 * One OPC UA endpoint: its session pushes the values of each publish response, which become one SampleBatch
 * (plus dead letters) in a bounded queue that its delivery hands to JetStream.
 */
export class EndpointBridge {
  readonly queue: PendingQueue<PendingBatch>;
  private readonly session: EndpointSession;
  private readonly delivery: BatchDelivery;
  /** Points whose last value was rejected and dead-lettered: the next rejections are only counted. */
  private readonly rejecting = new Set<string>();

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly endpoint: EndpointConfig,
    private readonly shared: EndpointShared,
  ) {
    const log: Logger = rt.log.child({ endpoint: endpoint.id });
    this.queue = new PendingQueue(shared.maxBufferBytes);
    this.delivery = new BatchDelivery(rt, endpoint, this.queue, shared.summaries, log, shared.onBytes);
    this.session = new EndpointSession(endpoint, pointsOf(endpoint), shared.certificates, log, {
      onValues: (values) => this.onValues(values),
      onEvent: (outcome) => rt.metrics.messages.inc({ stage: STAGE, outcome }),
      onRetry: () => shared.summaries.connectRetries.add(endpoint.id),
    });
  }

  start(): void {
    this.delivery.start();
    this.session.start();
  }

  /** Closes the session (no more values), then drains what is queued while JetStream accepts it. */
  async stop(): Promise<void> {
    await this.session.stop();
    await this.delivery.stop();
  }

  onValues(values: MonitoredValue[]): void {
    const { metrics } = this.rt;
    metrics.samples.inc({ stage: STAGE, direction: 'in' }, values.length);
    const ingestTimeNs = nowNs();
    const samples: busway.v1.ISample[] = [];
    const rejects: RejectedValue[] = [];
    for (const { point, value } of values) {
      const converted = convertDataValue(point, value, ingestTimeNs);
      if (converted.kind === 'sample') {
        samples.push(converted.sample);
        this.rejecting.delete(point.pointId);
        continue;
      }
      metrics.samples.inc({ stage: STAGE, direction: 'rejected' });
      if (this.rejecting.has(point.pointId)) this.shared.summaries.rejectedAgain.add(point.pointId);
      else {
        this.rejecting.add(point.pointId);
        rejects.push(converted.rejected);
      }
    }
    if (samples.length === 0 && rejects.length === 0) return;
    for (const batch of pendingBatchesOf(this.endpoint, samples, rejects)) this.drop(this.queue.push(batch));
    this.shared.onBytes();
    this.delivery.notify();
  }

  private drop(dropped: PendingBatch[]): void {
    if (dropped.length === 0) return;
    const samples = dropped.reduce((n, b) => n + b.samples, 0);
    this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'dropped-oldest' }, dropped.length);
    this.rt.metrics.samples.inc({ stage: STAGE, direction: 'dropped' }, samples);
    this.shared.summaries.dropped.add(this.endpoint.id, samples);
    // their dead letters were never stored: the next rejection of those points is dead-lettered again
    for (const b of dropped) for (const r of b.rejects) this.rejecting.delete(r.pointId);
  }
}
