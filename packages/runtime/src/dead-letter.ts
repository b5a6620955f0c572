import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
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

/** A dead letter as the DLQ stream holds it. */
export interface StoredDeadLetter {
  /** The subject (or source address) the original came from. */
  origin: string;
  code: string;
  reason: string;
  stage: string;
  data: Uint8Array;
}

/** Every dead letter the DLQ stream holds, oldest first (for operators' tools and tests). */
export async function readDeadLetters(jsm: JetStreamManager): Promise<StoredDeadLetter[]> {
  const stream = Streams.DeadLetter.name;
  const info = await jsm.streams.info(stream);
  const out: StoredDeadLetter[] = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    // a sequence may have been removed since the info was read
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (!m) continue;
    out.push({
      origin: m.header.get(Hdr.DlqSubject),
      code: m.header.get(Hdr.DlqCode),
      reason: m.header.get(Hdr.DlqReason),
      stage: m.header.get(Hdr.DlqStage),
      data: m.data,
    });
  }
  return out;
}
