import {
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { Streams, Subjects } from '@busway/proto';
import { Hdr } from './headers.js';

export interface DeadLetterReason {
  /** Stable reason code (metric label): decode-error, unit-mismatch, contract-violation, ... */
  code: string;
  /** Human-readable detail for the operator. */
  message: string;
}

/** Copies the original headers and adds why, where and after how many deliveries the message died. */
export function deadLetterHeaders(
  original: MsgHdrs | undefined,
  stage: string,
  subject: string,
  reason: DeadLetterReason,
  deliveries = 1,
): MsgHdrs {
  const h = headers();
  if (original) for (const key of original.keys()) for (const v of original.values(key)) h.append(key, v);
  h.set(Hdr.DlqReason, reason.message.slice(0, 1024));
  h.set(Hdr.DlqCode, reason.code);
  h.set(Hdr.DlqStage, stage);
  h.set(Hdr.DlqSubject, subject);
  h.set(Hdr.DlqDeliveries, String(deliveries));
  return h;
}

/**
 * Publishes a message to dlq.v1.<stage> and waits for the stream to hold it. The dead letter keeps the
 * original payload; its Nats-Msg-Id is derived from the original's, so a redelivery dead-letters once.
 */
export async function publishDeadLetter(
  js: JetStreamClient,
  stage: string,
  subject: string,
  data: Uint8Array,
  original: MsgHdrs | undefined,
  reason: DeadLetterReason,
  deliveries = 1,
  sourceSeq?: number,
  /** Which part of the original this is, when one message yields several dead letters (one per sample). */
  part?: string,
): Promise<void> {
  const h = deadLetterHeaders(original, stage, subject, reason, deliveries);
  const originalId = original?.get(Hdr.MsgId);
  const base = `dlq:${stage}:${originalId || `${subject}:${sourceSeq ?? Date.now()}`}`;
  const id = part === undefined ? base : `${base}#${part}`;
  h.set(Hdr.MsgId, id);
  await js.publish(Subjects.deadLetter(stage), data, { headers: h, msgID: id });
}

/** Dead-letters a JetStream message and terminates it, so the server never redelivers it. */
export async function deadLetterJsMsg(
  js: JetStreamClient,
  stage: string,
  msg: JsMsg,
  reason: DeadLetterReason,
  termWithReason = false,
): Promise<void> {
  await publishDeadLetter(
    js,
    stage,
    msg.subject,
    msg.data,
    msg.headers,
    reason,
    msg.info.deliveryCount,
    msg.seq,
  );
  // nats-server < 2.10 ignores a term that carries a reason: the reason is in the dead letter anyway
  if (termWithReason) msg.term(`${reason.code}: ${reason.message}`.slice(0, 200));
  else msg.term();
}

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

/** Every dead letter the DLQ stream holds, oldest first (what tests read). */
export function readDeadLetters(jsm: JetStreamManager): Promise<DeadLetterEntry[]> {
  return listDeadLetters(jsm.jetstream(), jsm);
}

/** The headers the original message had: the dead letter's own (why, where, its id) taken off. */
export function originalHeadersOf(letter: DeadLetterEntry): MsgHdrs {
  const h = headers();
  for (const key of letter.headers.keys())
    if (!DEAD_LETTER_OWN.has(key)) for (const v of letter.headers.values(key)) h.append(key, v);
  return h;
}

/** What `publishDeadLetter` adds to the original's headers; its `Nats-Msg-Id` replaced the original's. */
const DEAD_LETTER_OWN = new Set<string>([
  Hdr.DlqReason,
  Hdr.DlqCode,
  Hdr.DlqStage,
  Hdr.DlqSubject,
  Hdr.DlqDeliveries,
  Hdr.MsgId,
]);
