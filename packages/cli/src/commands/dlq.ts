import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  listDeadLetters,
  originalHeadersOf,
  redriveDeadLetters,
  type DeadLetterEntry,
} from '@busway/runtime';
import { decodeFabricMessage, type Json } from '../decode.js';
import { connectCli } from '../nats-connect.js';

export interface DlqOptions {
  natsUrl: string;
  /** One worker's dead letters. @default every worker's (list only) */
  worker?: string;
  /** One reason code. @default every code */
  code?: string;
  json: boolean;
  write?: (line: string) => void;
}

/** Dead letters `busway dlq` prints unless told otherwise (`--count`). */
export const DLQ_LIST_DEFAULT = 100;

/** What the operator reads of a dead letter: where it sits, who rejected it, why, and where it came from. */
export function describeDeadLetter(l: DeadLetterEntry): Record<string, unknown> {
  return {
    seq: l.seq,
    time: l.time.toISOString(),
    worker: l.stage,
    code: l.code,
    origin: l.origin,
    deliveries: l.deliveries,
    reason: l.reason,
    bytes: l.data.length,
    payload: payloadOf(l),
  };
}

/** The payload decoded as the message it was before it died: what to look at before sending it back. */
function payloadOf(l: DeadLetterEntry): Json[] | { error: string } {
  try {
    return decodeFabricMessage(l.origin, l.data, originalHeadersOf(l));
  } catch (err) {
    return { error: `does not decode: ${(err as Error).message}` };
  }
}

const lineOf = (l: DeadLetterEntry) =>
  `#${l.seq} ${l.time.toISOString()} ${l.stage} ${l.code} ${l.origin} (${l.deliveries} ${l.deliveries === 1 ? 'delivery' : 'deliveries'}): ${l.reason}`;

/** `busway dlq [worker]`: the oldest `count` dead letters the DLQ stream holds. Returns how many it printed. */
export async function dlqList(opts: DlqOptions & { count?: number }): Promise<number> {
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const nc = await connectCli(opts.natsUrl, 'dlq');
  try {
    const limit = opts.count ?? DLQ_LIST_DEFAULT;
    const letters = await listDeadLetters(
      jetstream(nc),
      await jetstreamManager(nc),
      { stage: opts.worker, code: opts.code },
      limit + 1, // one more than shown: says whether there are more
    );
    const more = letters.length > limit;
    letters.length = Math.min(letters.length, limit);
    for (const l of letters) write(opts.json ? JSON.stringify(describeDeadLetter(l)) : lineOf(l));
    if (!opts.json)
      write(
        `${letters.length} dead letter${letters.length === 1 ? '' : 's'}${more ? ` shown, the oldest; more are stored (--count N)` : ''}`,
      );
    return letters.length;
  } finally {
    await nc.close();
  }
}

/**
 * `busway redrive <worker>`: sends the worker's dead letters back to the subjects they came from, once their
 * cause is fixed. Returns how many were (or, dry, would be) sent back.
 */
export async function dlqRedrive(opts: DlqOptions & { worker: string; dryRun: boolean }): Promise<number> {
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const nc = await connectCli(opts.natsUrl, 'redrive');
  try {
    const verb = opts.dryRun ? 'would send back' : 'sent back';
    const r = await redriveDeadLetters(jetstream(nc), await jetstreamManager(nc), {
      stage: opts.worker,
      code: opts.code,
      dryRun: opts.dryRun,
      onLetter: (l, back) => {
        if (opts.json) write(JSON.stringify({ ...describeDeadLetter(l), redriven: back && !opts.dryRun }));
        else if (back) write(`${verb} #${l.seq} to ${l.origin} (${l.code})`);
      },
    });
    if (opts.json) return r.redriven;
    write(`${verb} ${r.redriven} dead letter${r.redriven === 1 ? '' : 's'} of ${opts.worker}`);
    if (r.outsideFabric > 0)
      write(
        `${r.outsideFabric} stay in the DLQ: they came from outside the fabric (an MQTT topic or a device address), nothing to send them back to`,
      );
    return r.redriven;
  } finally {
    await nc.close();
  }
}
