// The operator's side of the DLQ stream: send back what a fix made processable.
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { Streams } from '@busway/proto';
import {
  deadLetters,
  originalHeadersOf,
  type DeadLetterEntry,
  type DeadLetterFilter,
} from './dead-letter.js';
import { Hdr } from './headers.js';

export interface RedriveOptions extends DeadLetterFilter {
  stage: string;
  /** List what would be sent back, change nothing. */
  dryRun?: boolean;
  /** Told of each letter once handled: sent back (with dryRun: would be), or left where it is. */
  onLetter?: (letter: DeadLetterEntry, sentBack: boolean) => void | Promise<void>;
}

export interface RedriveResult {
  /** Published again to their origin subject and removed from the DLQ (with dryRun: would be). */
  redriven: number;
  /** Left in the DLQ: their origin is no fabric subject (an MQTT topic, a device address), nothing to resend to. */
  outsideFabric: number;
}

/**
 * Sends dead letters back to the subject they came from, once the cause is fixed (a registry entry, a unit
 * mapping, a worker's bug): each is published with its original headers and trace context, a new event id (so
 * the outputs it makes are not taken for the first attempt's and dropped as duplicates) and a `Nats-Msg-Id`
 * named by its DLQ sequence (a rerun after a crash between the two steps stores it once), then deleted from
 * the DLQ. One that fails again is dead-lettered again, under a new sequence.
 */
export async function redriveDeadLetters(
  js: JetStreamClient,
  jsm: JetStreamManager,
  opts: RedriveOptions,
): Promise<RedriveResult> {
  const result: RedriveResult = { redriven: 0, outsideFabric: 0 };
  const streamOf = new Map<string, string | undefined>(); // one lookup per origin subject, not per letter
  for await (const letter of deadLetters(js, jsm, opts)) {
    if (!streamOf.has(letter.origin))
      streamOf.set(letter.origin, await jsm.streams.find(letter.origin).catch(() => undefined));
    const stream = streamOf.get(letter.origin);
    if (!stream || stream === Streams.DeadLetter.name) {
      result.outsideFabric++;
      await opts.onLetter?.(letter, false);
      continue;
    }
    if (!opts.dryRun) {
      const id = `redrive:${letter.stage}:${letter.seq}`;
      await js.publish(letter.origin, letter.data, { headers: redriveHeaders(letter), msgID: id });
      await jsm.streams.deleteMessage(Streams.DeadLetter.name, letter.seq, false);
    }
    result.redriven++;
    await opts.onLetter?.(letter, true);
  }
  return result;
}

const REDRIVE_MARK = '~redrive:';

/** The original's headers under a new event id that names the DLQ sequence. */
function redriveHeaders(letter: DeadLetterEntry): MsgHdrs {
  const h = originalHeadersOf(letter);
  // a letter sent back before and dead-lettered again keeps the first id, not a chain of suffixes
  const originalId = h.get(Hdr.Id).split(REDRIVE_MARK)[0];
  h.set(Hdr.Id, `${originalId || letter.origin}${REDRIVE_MARK}${letter.stage}:${letter.seq}`);
  h.set(Hdr.RedrivenFrom, `${Streams.DeadLetter.name}:${letter.seq}`);
  return h;
}
