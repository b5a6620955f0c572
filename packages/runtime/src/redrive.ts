// The operator's side of the DLQ stream: list what it holds, and send back what a fix made processable.
import { JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { Streams, Subjects } from '@busway/proto';
import { Hdr } from './headers.js';

/** A dead letter as stored, with where it sits in the DLQ stream. */
export interface DeadLetterEntry {
  /** Its sequence in the DLQ stream: what `redrive` names and deletes. */
  seq: number;
  time: Date;
  /** The worker that dead-lettered it. */
  stage: string;
  code: string;
  reason: string;
  /** The subject (or source address) the original came from. */
  origin: string;
  deliveries: number;
  headers: MsgHdrs;
  data: Uint8Array;
}

export interface DeadLetterFilter {
  /** Only this worker's dead letters (`dlq.v1.<stage>`). @default every worker */
  stage?: string;
  /** Only this reason code (`unit-mismatch`, `decode-error`, ...). @default every code */
  code?: string;
}

/**
 * The dead letters the DLQ stream holds when called, oldest first, read by a short-lived ordered consumer one
 * at a time (a flood of them is never all in memory). Later ones are left out: a redrive whose letters fail
 * again must not meet them in the same pass.
 */
export async function* deadLetters(
  js: JetStreamClient,
  jsm: JetStreamManager,
  filter: DeadLetterFilter = {},
): AsyncGenerator<DeadLetterEntry> {
  const stream = Streams.DeadLetter.name;
  const subject = filter.stage ? Subjects.deadLetter(filter.stage) : 'dlq.v1.>';
  const info = await jsm.streams.info(stream, { subjects_filter: subject }).catch((err: unknown) => {
    if (!(err instanceof JetStreamApiError && err.status === 404)) throw err;
    throw new Error(
      `no ${stream} stream on this NATS server: is it the fabric's, and provisioned (busway provision)?`,
    );
  });
  const stored = Object.values(info.state.subjects ?? {}).reduce((n, c) => n + c, 0);
  if (stored === 0) return;
  const lastSeq = info.state.last_seq;
  const consumer = await js.consumers.get(stream, { filter_subjects: subject });
  for (let more = true; more;) {
    const batch = await consumer.fetch({ max_messages: 256, expires: 2000 });
    more = false;
    for await (const m of batch) {
      if (m.seq > lastSeq) return;
      const entry = entryOf(m.seq, m.time, m.headers, m.data);
      if (!filter.code || entry.code === filter.code) yield entry;
      if (m.info.pending === 0 || m.seq === lastSeq) return;
      more = true;
    }
  }
}

/** The first `limit` dead letters `deadLetters` yields. */
export async function listDeadLetters(
  js: JetStreamClient,
  jsm: JetStreamManager,
  filter: DeadLetterFilter = {},
  limit = Number.POSITIVE_INFINITY,
): Promise<DeadLetterEntry[]> {
  const out: DeadLetterEntry[] = [];
  if (limit <= 0) return out;
  for await (const entry of deadLetters(js, jsm, filter)) if (out.push(entry) >= limit) break;
  return out;
}

function entryOf(seq: number, time: Date, h: MsgHdrs | undefined, data: Uint8Array): DeadLetterEntry {
  return {
    seq,
    time,
    stage: h?.get(Hdr.DlqStage) ?? '',
    code: h?.get(Hdr.DlqCode) ?? '',
    reason: h?.get(Hdr.DlqReason) ?? '',
    origin: h?.get(Hdr.DlqSubject) ?? '',
    deliveries: Number(h?.get(Hdr.DlqDeliveries) ?? '0'),
    headers: h ?? headers(),
    data,
  };
}

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
/** What a dead letter added to the original's headers, and the ids a letter sent back gets anew. */
const NOT_SENT_BACK = new Set<string>([
  Hdr.DlqReason,
  Hdr.DlqCode,
  Hdr.DlqStage,
  Hdr.DlqSubject,
  Hdr.DlqDeliveries,
  Hdr.MsgId,
  Hdr.Id,
]);

/** The original's headers without the dead letter's, under a new event id that names the DLQ sequence. */
function redriveHeaders(letter: DeadLetterEntry): MsgHdrs {
  const h = headers();
  for (const key of letter.headers.keys())
    if (!NOT_SENT_BACK.has(key)) for (const v of letter.headers.values(key)) h.append(key, v);
  // a letter sent back before and dead-lettered again keeps the first id, not a chain of suffixes
  const originalId = letter.headers.get(Hdr.Id).split(REDRIVE_MARK)[0];
  h.set(Hdr.Id, `${originalId || letter.origin}${REDRIVE_MARK}${letter.stage}:${letter.seq}`);
  h.set(Hdr.RedrivenFrom, `${Streams.DeadLetter.name}:${letter.seq}`);
  return h;
}
