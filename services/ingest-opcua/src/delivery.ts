import { setTimeout as sleep } from 'node:timers/promises';
import { context } from '@opentelemetry/api';
import { headers } from '@nats-io/transport-node';
import { EventTypes, Subjects } from '@busway/proto';
import {
  ErrorCode,
  Hdr,
  publishDeadLetter,
  publishFabric,
  type Logger,
  type WorkerRuntime,
} from '@busway/runtime';
import type { PendingBatch } from './batch.js';
import type { RejectedValue } from './convert.js';
import type { PendingQueue } from './pending-queue.js';
import type { Summaries } from './summaries.js';

export const STAGE = 'ingest';
export const WORKER = 'ingest-opcua';
const MAX_RETRY_MS = 5000;

/**
 * Hands one endpoint's batches to JetStream in order, each counted as delivered only once stored: its dead
 * letters first, then its SampleBatch. A refused publish is retried with backoff (100 ms to 5 s) while the queue
 * keeps its bound. On stop it drains the queue while JetStream accepts; from the first refusal on, what is left
 * is counted and logged as lost.
 */
export class BatchDelivery {
  private stopping = false;
  private wake?: () => void;
  private running?: Promise<void>;
  private readonly abort = new AbortController();
  private readonly subject: string;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly endpoint: { id: string; url: string },
    private readonly queue: PendingQueue<PendingBatch>,
    private readonly summaries: Summaries,
    private readonly log: Logger,
    private readonly onBytes: () => void,
  ) {
    this.subject = Subjects.rawSamples('opcua', endpoint.id);
  }

  start(): void {
    this.running = this.run();
  }

  /** Something was queued. */
  notify(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.notify();
    await this.running;
  }

  private async run(): Promise<void> {
    for (;;) {
      const next = this.queue.take();
      if (!next) {
        if (this.stopping) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const stored = await this.untilStored(next);
      this.queue.done(next);
      this.onBytes();
      if (!stored) return this.giveUp(next);
    }
  }

  private async untilStored(batch: PendingBatch): Promise<boolean> {
    for (let waitMs = 100; ; waitMs = Math.min(waitMs * 2, MAX_RETRY_MS)) {
      try {
        await this.publish(batch);
        return true;
      } catch (err) {
        this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'store-retry' });
        this.summaries.storeRetries.add((err as Error).name || 'error');
        if (this.stopping) return false;
        await sleep(waitMs, undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    }
  }

  private giveUp(failed: PendingBatch): void {
    const lost = [failed, ...this.queue.clear()];
    const samples = lost.reduce((n, b) => n + b.samples, 0);
    this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'lost-on-stop' }, lost.length);
    this.rt.metrics.samples.inc({ stage: STAGE, direction: 'dropped' }, samples);
    this.log.warn(
      { batches: lost.length, samples },
      'stopping: dropped batches JetStream did not acknowledge',
    );
    this.onBytes();
  }

  private async publish(batch: PendingBatch): Promise<void> {
    for (let reject = batch.rejects[0]; reject; reject = batch.rejects[0]) {
      await this.deadLetter(reject);
      batch.rejects.shift(); // only once stored: a retry sends the rest, never a duplicate
    }
    if (!batch.data) return;
    await publishFabric(
      this.rt.publisher,
      this.subject,
      batch.data,
      { type: EventTypes.SampleBatch, source: `/opcua/${this.endpoint.id}`, id: batch.id },
      context.active(),
    );
    this.rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, batch.samples);
    this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'published' });
  }

  private async deadLetter(reject: RejectedValue): Promise<void> {
    const h = headers();
    h.set(Hdr.MsgId, `opcua:${this.endpoint.id}:${reject.nodeId}@${reject.eventTimeNs.toString()}`);
    h.set('opcua-endpoint', this.endpoint.url);
    h.set('opcua-node-id', reject.nodeId);
    const reason = { code: ErrorCode.Contract, message: reject.message };
    await publishDeadLetter(
      this.rt.js,
      WORKER,
      `opcua:${this.endpoint.url}#${reject.nodeId}`,
      reject.payload,
      h,
      reason,
    );
    this.rt.metrics.deadLetters.inc({ stage: STAGE, reason: reason.code });
    this.summaries.deadLetters.add(reason.code);
  }
}
