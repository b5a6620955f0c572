import { context } from '@opentelemetry/api';
import { headers } from '@nats-io/transport-node';
import { busway, EventTypes, Subjects } from '@busway/proto';
import {
  backoffMs,
  Hdr,
  type Logger,
  messageOf,
  publishDeadLetter,
  publishFabric,
  sleep,
  type WorkerRuntime,
} from '@busway/runtime';
import type { DeviceConfig } from './config.js';
import { STAGE, WORKER, type Cycle, type Fault } from './cycle.js';
import type { PollSummaries } from './summaries.js';

/** Hands a device's cycles to JetStream: its dead letters, then one SampleBatch, each stored before it returns. */
export class CycleDelivery {
  private readonly subject: string;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly device: DeviceConfig,
    private readonly summaries: PollSummaries,
    private readonly signal: AbortSignal,
    private readonly log: Logger,
  ) {
    this.subject = Subjects.rawSamples('modbus', device.id);
  }

  /** Publishes until JetStream acknowledges, retrying with backoff; false when stopped before it did. */
  async deliver(cycle: Cycle): Promise<boolean> {
    const { id, pollIntervalMs, maxBackoffMs } = this.device;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.publish(cycle);
        return true;
      } catch (err) {
        this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'publish-failed' });
        this.summaries.publishFailures.add(id);
        if (this.signal.aborted) {
          this.log.warn(
            { err: messageOf(err) },
            'stopping: dropped a poll cycle JetStream did not acknowledge',
          );
          return false;
        }
        await sleep(backoffMs(attempt, pollIntervalMs, maxBackoffMs), this.signal);
      }
    }
  }

  private async publish(cycle: Cycle): Promise<void> {
    const { id, host, port, unitId } = this.device;
    const pollMs = cycle.stamp.pollMs;
    for (let fault = cycle.faults[0]; fault; fault = cycle.faults[0]) {
      await this.deadLetter(fault, pollMs);
      cycle.faults.shift(); // only once stored: a retry sends the rest, never a duplicate
    }
    if (cycle.samples.length === 0) return;
    const batch = busway.v1.SampleBatch.encode({
      samples: cycle.samples,
      source: { protocol: 'modbus', address: `${host}:${port}/${unitId}`, sourceId: id },
    }).finish();
    await publishFabric(
      this.rt.js,
      this.subject,
      batch,
      { type: EventTypes.SampleBatch, source: `/modbus/${id}`, id: `modbus:${id}@${pollMs}` },
      context.active(),
    );
    this.rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, cycle.samples.length);
    this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'published' });
  }

  private async deadLetter(fault: Fault, pollMs: number): Promise<void> {
    const h = headers();
    h.set(Hdr.MsgId, `modbus:${this.device.id}:${fault.key}@${pollMs}`);
    h.set('modbus-device', this.device.id);
    const payload = new TextEncoder().encode(
      JSON.stringify({ ...fault.detail, error: fault.reason.message }),
    );
    await publishDeadLetter(this.rt.js, WORKER, fault.subject, payload, h, fault.reason);
    this.rt.metrics.deadLetters.inc({ stage: STAGE, reason: fault.reason.code });
    this.summaries.deadLetters.add(fault.reason.code);
    this.log.warn(
      { reason: fault.reason.message },
      'dead-lettered a Modbus read; reported again only after it reads',
    );
  }
}
