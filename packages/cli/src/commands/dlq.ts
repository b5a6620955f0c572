import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { listDeadLetters, redriveDeadLetters, type DeadLetterEntry } from '@busway/runtime';
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
  };
}

const lineOf = (l: DeadLetterEntry) =>
  `#${l.seq} ${l.time.toISOString()} ${l.stage} ${l.code} ${l.origin} (${l.deliveries} ${l.deliveries === 1 ? 'delivery' : 'deliveries'}): ${l.reason}`;

/** `busway dlq [worker]`: the dead letters the DLQ stream holds, oldest first. Returns how many. */
export async function dlqList(opts: DlqOptions): Promise<number> {
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const nc = await connectCli(opts.natsUrl, 'dlq');
  try {
    const letters = await listDeadLetters(jetstream(nc), await jetstreamManager(nc), {
      stage: opts.worker,
      code: opts.code,
    });
    for (const l of letters) write(opts.json ? JSON.stringify(describeDeadLetter(l)) : lineOf(l));
    if (!opts.json) write(`${letters.length} dead letter${letters.length === 1 ? '' : 's'}`);
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
  const nc = await connectCli(opts.natsUrl, 'dlq');
  try {
    const r = await redriveDeadLetters(jetstream(nc), await jetstreamManager(nc), {
      stage: opts.worker,
      code: opts.code,
      dryRun: opts.dryRun,
    });
    const verb = opts.dryRun ? 'would send back' : 'sent back';
    if (opts.json) {
      for (const l of r.redriven) write(JSON.stringify({ ...describeDeadLetter(l), redriven: !opts.dryRun }));
      for (const l of r.outsideFabric) write(JSON.stringify({ ...describeDeadLetter(l), redriven: false }));
      return r.redriven.length;
    }
    for (const l of r.redriven) write(`${verb} #${l.seq} to ${l.origin} (${l.code})`);
    write(`${verb} ${r.redriven.length} dead letter${r.redriven.length === 1 ? '' : 's'} of ${opts.worker}`);
    if (r.outsideFabric.length > 0)
      write(
        `${r.outsideFabric.length} stay in the DLQ: they came from outside the fabric (an MQTT topic or a device address), nothing to send them back to`,
      );
    return r.redriven.length;
  } finally {
    await nc.close();
  }
}
