import { messageOf } from '@busway/runtime';
import { Subjects } from '@busway/proto';
import type { Logger, WorkerRuntime } from '@busway/runtime';
import type { TargetConfig } from './config.js';
import { STAGE, type Cycle } from './cycle.js';
import { publishSamples, publishSnmpDeadLetter, untilStored } from './publish.js';
import type { Summaries } from './summaries.js';

/** Hands a target's cycles to JetStream: its dead letters, then one SampleBatch, each stored before it returns. */
export class CycleDelivery {
  private readonly subject: string;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly target: TargetConfig,
    private readonly summaries: Summaries,
    private readonly signal: AbortSignal,
    private readonly log: Logger,
  ) {
    this.subject = Subjects.rawSamples('snmp', target.id);
  }

  /** Publishes until JetStream acknowledges, retrying with backoff; false when stopped before it did. */
  deliver(cycle: Cycle): Promise<boolean> {
    const { id, pollIntervalMs, maxBackoffMs } = this.target;
    return untilStored(() => this.publish(cycle), {
      intervalMs: pollIntervalMs,
      maxBackoffMs,
      signal: this.signal,
      onFailure: (err) => {
        this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'publish-failed' });
        this.summaries.publishFailures.add(id);
        if (this.signal.aborted)
          this.log.warn(
            { err: messageOf(err) },
            'stopping: dropped a poll cycle JetStream did not acknowledge',
          );
      },
    });
  }

  private async publish(cycle: Cycle): Promise<void> {
    const { id, host, port } = this.target;
    for (let fault = cycle.faults[0]; fault; fault = cycle.faults[0]) {
      const payload = new TextEncoder().encode(
        JSON.stringify({ ...fault.detail, error: fault.reason.message }),
      );
      const msgId = `snmp:${id}:${fault.key}@${cycle.pollMs}`;
      await publishSnmpDeadLetter(this.rt, { origin: fault.subject, msgId, payload, reason: fault.reason });
      this.summaries.deadLetters.add(fault.reason.code);
      this.log.warn(
        { reason: fault.reason.message },
        'dead-lettered an SNMP read; reported again only after it reads',
      );
      cycle.faults.shift(); // only once stored: a retry sends the rest, never a duplicate
    }
    if (cycle.samples.length === 0) return;
    await publishSamples(
      this.rt,
      this.subject,
      { samples: cycle.samples, source: { protocol: 'snmp', address: `${host}:${port}`, sourceId: id } },
      { source: `/snmp/${id}`, id: `snmp:${id}:${cycle.pollMs}` },
    );
  }
}
