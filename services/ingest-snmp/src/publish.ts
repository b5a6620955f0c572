import { context } from '@opentelemetry/api';
import { headers } from '@nats-io/transport-node';
import { busway, EventTypes } from '@busway/proto';
import {
  backoffMs,
  type DeadLetterReason,
  Hdr,
  publishDeadLetter,
  publishFabric,
  sleep,
  type WorkerRuntime,
} from '@busway/runtime';
import { STAGE, WORKER } from './cycle.js';

/** One SampleBatch to RAW; resolves on the PubAck. `id` is the Nats-Msg-Id: a retry is stored once. */
export async function publishSamples(
  rt: WorkerRuntime,
  subject: string,
  batch: busway.v1.ISampleBatch,
  envelope: { source: string; id: string },
): Promise<void> {
  const bytes = busway.v1.SampleBatch.encode(batch).finish();
  await publishFabric(
    rt.publisher,
    subject,
    bytes,
    { type: EventTypes.SampleBatch, ...envelope },
    context.active(),
  );
  rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, batch.samples?.length ?? 0);
  rt.metrics.messages.inc({ stage: STAGE, outcome: 'published' });
}

/** One dead letter to dlq.v1.ingest-snmp, counted by reason; resolves once the stream holds it. */
export async function publishSnmpDeadLetter(
  rt: WorkerRuntime,
  letter: { origin: string; msgId: string; payload: Uint8Array; reason: DeadLetterReason },
): Promise<void> {
  const h = headers();
  h.set(Hdr.MsgId, letter.msgId);
  await publishDeadLetter(rt.js, WORKER, letter.origin, letter.payload, h, letter.reason);
  rt.metrics.deadLetters.inc({ stage: STAGE, reason: letter.reason.code });
}

export interface RetryPolicy {
  intervalMs: number;
  maxBackoffMs: number;
  signal: AbortSignal;
  /** Called on every failed attempt (counted and summarized by the caller). */
  onFailure(err: unknown): void;
}

/** Tries until JetStream acknowledges, backing off; false when stopped before it did. */
export async function untilStored(attempt: () => Promise<void>, policy: RetryPolicy): Promise<boolean> {
  for (let n = 1; ; n++) {
    try {
      await attempt();
      return true;
    } catch (err) {
      policy.onFailure(err);
      if (policy.signal.aborted) return false;
      await sleep(backoffMs(n, policy.intervalMs, policy.maxBackoffMs), policy.signal);
    }
  }
}
