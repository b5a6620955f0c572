import { context } from '@opentelemetry/api';
import { headers } from '@nats-io/transport-node';
import { busway, EventTypes, Subjects } from '@busway/proto';
import { publishDeadLetter, type DeadLetterReason } from './dead-letter.js';
import { fabricHeaders, Hdr } from './headers.js';
import type { Logger, LogSummary } from './logger.js';
import { backoffMs, messageOf, sleep } from './poll.js';
import { publishFabric } from './publish.js';
import { tracePollCycle } from './source-trace.js';
import type { WorkerRuntime } from './worker.js';

/** A read that fails the same way every cycle: dead-lettered once, until it reads again. */
export interface PollFault {
  /** Identity of the failing request or point within its device. */
  key: string;
  /** The read's address, e.g. `modbus:<host>:<port>/<unit>/<table>/<address>`: the dead letter's origin. */
  subject: string;
  /** What was asked and what came back: the dead letter's JSON payload. */
  detail: Record<string, unknown>;
  reason: DeadLetterReason;
}

/** What one poll of one device produced, held until JetStream has it. */
export interface PollCycle {
  pollMs: number;
  samples: busway.v1.ISample[];
  /** Sent first; each is removed once stored, so a retry never sends one twice. */
  faults: PollFault[];
  /** The raw reads as the device answered them (register words, varbinds), kept on AUDIT as JSON. */
  original?: unknown[];
}

/** JSON that keeps what devices answer with: bytes as base64, 64-bit integers as decimal text. */
const auditJson = (v: unknown) =>
  JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x,
  );

/** The polled device, as its deliveries name it. */
export interface PollSource {
  protocol: string;
  worker: string;
  id: string;
  /** `host:port[/unit]`: the batch's source address. */
  address: string;
  pollIntervalMs: number;
  maxBackoffMs: number;
}

/**
 * Hands a polling bridge's cycles to JetStream: the dead letters, the raw reads to AUDIT, then one SampleBatch (Nats-Msg-Id
 * `<protocol>:<device>@<poll ms>`), retrying with backoff until stored. The poller waits for it, so a device
 * holds at most one cycle while JetStream is slow or down.
 */
export class PollDelivery {
  private readonly subject: string;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly source: PollSource,
    private readonly summaries: { publishFailures: LogSummary; deadLetters: LogSummary },
    private readonly signal: AbortSignal,
    private readonly log: Logger,
  ) {
    this.subject = Subjects.rawSamples(source.protocol, source.id);
  }

  /** True once JetStream has the cycle; false when the bridge stopped before it did. */
  deliver(cycle: PollCycle): Promise<boolean> {
    // one span per cycle, from the poll until stored: the samples' trace starts at the device
    return tracePollCycle(this.source, cycle.pollMs, cycle.samples.length, () => this.deliverCycle(cycle));
  }

  private async deliverCycle(cycle: PollCycle): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.publish(cycle);
        return true;
      } catch (err) {
        this.rt.metrics.messages.inc({ stage: 'ingest', outcome: 'publish-failed' });
        this.summaries.publishFailures.add(this.source.id);
        if (this.signal.aborted) {
          this.log.warn(
            { err: messageOf(err) },
            'stopping: dropped a poll cycle JetStream did not acknowledge',
          );
          return false;
        }
        await sleep(backoffMs(attempt, this.source.pollIntervalMs, this.source.maxBackoffMs), this.signal);
      }
    }
  }

  private async publish(cycle: PollCycle): Promise<void> {
    const { protocol, id, address } = this.source;
    for (let fault = cycle.faults[0]; fault; fault = cycle.faults[0]) {
      await this.deadLetter(fault, cycle.pollMs);
      cycle.faults.shift(); // only once stored: a retry sends the rest, never a duplicate
    }
    if (cycle.original && cycle.original.length > 0) {
      const h = fabricHeaders({
        type: EventTypes.Original,
        source: `/${protocol}/${id}`,
        id: `${protocol}:${id}@${cycle.pollMs}:original`,
        contentType: 'application/json',
      });
      const data = new TextEncoder().encode(auditJson(cycle.original));
      await this.rt.js.publish(Subjects.audit(protocol, id), data, { headers: h, msgID: h.get(Hdr.MsgId) });
      cycle.original = undefined; // stored: a retry sends only what is left
    }
    if (cycle.samples.length === 0) return;
    const batch = busway.v1.SampleBatch.encode({
      samples: cycle.samples,
      source: { protocol, address, sourceId: id },
    }).finish();
    this.rt.metrics.bufferBytes.inc({ stage: 'ingest' }, batch.length); // held until the PubAck
    await publishFabric(
      this.rt.js,
      this.subject,
      batch,
      { type: EventTypes.SampleBatch, source: `/${protocol}/${id}`, id: `${protocol}:${id}@${cycle.pollMs}` },
      context.active(),
    ).finally(() => this.rt.metrics.bufferBytes.dec({ stage: 'ingest' }, batch.length));
    this.rt.metrics.samples.inc({ stage: 'ingest', direction: 'out' }, cycle.samples.length);
    this.rt.metrics.messages.inc({ stage: 'ingest', outcome: 'published' });
  }

  private async deadLetter(fault: PollFault, pollMs: number): Promise<void> {
    const h = headers();
    h.set(Hdr.MsgId, `${this.source.protocol}:${this.source.id}:${fault.key}@${pollMs}`);
    const payload = new TextEncoder().encode(
      JSON.stringify({ ...fault.detail, error: fault.reason.message }),
    );
    await publishDeadLetter(this.rt.js, this.source.worker, fault.subject, payload, h, fault.reason);
    this.rt.metrics.deadLetters.inc({ stage: 'ingest', reason: fault.reason.code });
    this.summaries.deadLetters.add(fault.reason.code);
    this.log.warn(
      { reason: fault.reason.message },
      'dead-lettered a read; reported again only after it reads',
    );
  }
}
