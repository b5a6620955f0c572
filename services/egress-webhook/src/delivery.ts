import type { JsMsg } from '@nats-io/jetstream';
import { ACK, reasonOf, type Outcome } from '@busway/runtime';
import { cloudEventOf, type CloudEventJson } from './cloudevent.js';
import type { Lane } from './lanes.js';
import { nextDelayMs } from './retry.js';
import type { EndpointSender } from './sender.js';

/** Events of one POST and the positions of their messages in the batch. */
interface Chunk {
  at: number[];
  events: CloudEventJson[];
  body: string;
  contentType: string;
}

/**
 * Groups encoded events into POSTs of at most `batchSize` events and `maxBodyBytes`. An event too large on
 * its own is reported through `tooLarge`.
 */
export function chunksOf(
  events: { at: number; event: CloudEventJson }[],
  sender: Pick<EndpointSender, 'bodyOf' | 'endpoint'>,
  tooLarge: (at: number, bytes: number) => void,
): Chunk[] {
  const { batchSize, maxBodyBytes } = sender.endpoint;
  const chunks: Chunk[] = [];
  let at: number[] = [];
  let group: CloudEventJson[] = [];
  let bytes = 2; // the batch's brackets
  const close = () => {
    if (group.length === 0) return;
    chunks.push({ at, events: group, ...sender.bodyOf(group) });
    at = [];
    group = [];
    bytes = 2;
  };
  for (const { at: i, event } of events) {
    const size = Buffer.byteLength(JSON.stringify(event)) + 1;
    if (size + 2 > maxBodyBytes) {
      tooLarge(i, size);
      continue;
    }
    if (group.length >= batchSize || bytes + size > maxBodyBytes) close();
    at.push(i);
    group.push(event);
    bytes += size;
  }
  close();
  return chunks;
}

/** Runs `jobs` with at most `limit` of them in flight. */
async function withConcurrency<T>(jobs: T[], limit: number, run: (job: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await run(jobs[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}

/**
 * Delivers one fetched batch of a lane to its endpoint and says what becomes of each message: ack once the
 * endpoint answered 2xx; nak with the backoff (or the endpoint's Retry-After) after a retryable failure, so
 * JetStream redelivers it and the last attempt dead-letters it; dead-letter at once when the endpoint refused
 * it for good (4xx) or it cannot be encoded. Unsettled messages are kept alive while the batch is in hand.
 */
export async function deliverBatch(
  lane: Lane,
  sender: EndpointSender,
  batch: JsMsg[],
  fallbackSource: string,
  signal: AbortSignal,
): Promise<Outcome[]> {
  const outcomes: (Outcome | undefined)[] = new Array<Outcome | undefined>(batch.length);
  const encoded: { at: number; event: CloudEventJson }[] = [];
  for (const [at, msg] of batch.entries()) {
    try {
      encoded.push({ at, event: cloudEventOf(msg, fallbackSource) });
    } catch (err) {
      const { code, message } = reasonOf(err);
      outcomes[at] = { kind: 'poison', code, message };
    }
  }
  const chunks = chunksOf(encoded, sender, (at, bytes) => {
    outcomes[at] = {
      kind: 'poison',
      code: 'too-large',
      message: `event of ${bytes} bytes exceeds maxBodyBytes ${sender.endpoint.maxBodyBytes} of endpoint ${sender.endpoint.id}`,
    };
  });
  // waiting for the breaker or a slow endpoint must not let the server redeliver what is in hand
  const keepAlive = setInterval(
    () => batch.forEach((m, i) => outcomes[i] === undefined && m.working()),
    Math.max(500, Math.floor(lane.consumer.ackWaitMs / 3)),
  );
  try {
    await withConcurrency(chunks, lane.endpoint.concurrency, async (chunk) => {
      const result = await sender.send(chunk.events, chunk.body, chunk.contentType, lane.tier, signal);
      for (const at of chunk.at) {
        const msg = batch[at] as JsMsg;
        if (result === undefined) {
          outcomes[at] = { kind: 'retry', code: 'stopping', message: 'worker stopping', delayMs: 0 };
        } else if (result.kind === 'delivered') {
          outcomes[at] = ACK;
        } else if (result.kind === 'permanent') {
          outcomes[at] = {
            kind: 'poison',
            code: result.code,
            message: `endpoint ${lane.endpoint.id} refused it: ${result.message}`,
          };
        } else {
          const delayMs = nextDelayMs(result, msg.info.deliveryCount, lane.endpoint, Math.random());
          outcomes[at] = {
            kind: 'retry',
            code: result.code,
            message: `endpoint ${lane.endpoint.id} attempt ${msg.info.deliveryCount} of ${lane.endpoint.maxAttempts}: ${result.message}`,
            delayMs,
          };
        }
      }
    });
  } finally {
    clearInterval(keepAlive);
  }
  return outcomes.map((o) => o ?? { kind: 'retry', code: 'internal', message: 'not delivered' });
}
