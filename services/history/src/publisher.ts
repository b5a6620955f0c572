import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { backoffMs, sleep } from '@busway/runtime';
import type { RollupMessage } from './rollup-message.js';

/**
 * Publishes rollups with at most `concurrency` awaiting their PubAck, and retries a failed chunk until
 * JetStream stores it (ids are deterministic, so a retried message is stored once). Resolves with the
 * PubAcks in input order; rejects only when `signal` aborts (the worker is stopping).
 */
export async function publishAll(
  js: JetStreamClient,
  messages: RollupMessage[],
  concurrency: number,
  log: Logger,
  signal: AbortSignal,
): Promise<PubAck[]> {
  const acks: PubAck[] = [];
  for (let i = 0; i < messages.length; i += concurrency) {
    const chunk = messages.slice(i, i + concurrency);
    for (let failures = 0; ;) {
      if (signal.aborted) throw new Error('stopping: rollups not published');
      try {
        acks.push(
          ...(await Promise.all(
            chunk.map((m) => js.publish(m.subject, m.data, { headers: m.headers, msgID: m.id })),
          )),
        );
        break;
      } catch (err) {
        failures++;
        log.warn({ err: (err as Error).message, failures }, 'rollup publish failed; retrying');
        await sleep(backoffMs(failures, 200, 10_000), signal);
      }
    }
  }
  return acks;
}
