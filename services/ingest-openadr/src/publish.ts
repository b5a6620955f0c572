import { context } from '@opentelemetry/api';
import { headers } from '@nats-io/transport-node';
import { busway, EventTypes, Subjects } from '@busway/proto';
import {
  Hdr,
  publishDeadLetter,
  publishFabric,
  TransientError,
  withTimeout,
  type DeadLetterReason,
  type WorkerRuntime,
} from '@busway/runtime';

export const WORKER = 'ingest-openadr';
export const STAGE = 'ingest';

/** Where the signals go: raw.v1.events.openadr (the normalizer forwards them to norm.v1.events.grid). */
export const SIGNAL_SUBJECT = Subjects.rawEvents('openadr');

/**
 * Publishes the signals of one event revision as one EventBatch and resolves on the PubAck. The id is the
 * Nats-Msg-Id: a re-read or a re-delivered callback inside the duplicate window is stored once.
 */
export async function publishSignals(
  rt: WorkerRuntime,
  events: busway.v1.IEvent[],
  envelope: { id: string; source: string; time?: string },
  timeoutMs: number,
): Promise<void> {
  const data = busway.v1.EventBatch.encode({ events }).finish();
  await stored(
    publishFabric(
      rt.publisher,
      SIGNAL_SUBJECT,
      data,
      { type: EventTypes.EventBatch, ...envelope },
      context.active(),
    ),
    timeoutMs,
    'signals',
  );
  rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, events.length);
}

/** The object as the VTN sent it to dlq.v1.ingest-openadr with the reason; resolves once stored. */
export async function deadLetterObject(
  rt: WorkerRuntime,
  letter: { id: string; origin: string; object: unknown; reason: DeadLetterReason },
  timeoutMs: number,
): Promise<void> {
  const h = headers();
  h.set(Hdr.MsgId, letter.id);
  h.set(Hdr.DataContentType, 'application/json');
  const data = new TextEncoder().encode(JSON.stringify(letter.object) ?? 'null');
  await stored(
    publishDeadLetter(rt.js, WORKER, letter.origin, data, h, letter.reason),
    timeoutMs,
    'dead letter',
  );
  rt.metrics.deadLetters.inc({ stage: STAGE, reason: letter.reason.code });
}

/** A publish that JetStream did not acknowledge in time is a transient failure (the caller retries). */
async function stored<T>(publish: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  try {
    return await withTimeout(publish, timeoutMs, `${what} publish`);
  } catch (err) {
    if (err instanceof TransientError) throw err;
    throw new TransientError(`${what} not stored: ${(err as Error).message}`, { cause: err });
  }
}
