import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { busway, EventTypes } from '@busway/proto';
import { Hdr } from '@busway/runtime';

/** Every message currently in a stream (optionally those under a subject prefix), read with an ordered consumer. */
export async function readStream(
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
  prefix?: string,
): Promise<{ subject: string; data: Uint8Array; type: string; msgId: string }[]> {
  const info = await jsm.streams.info(stream);
  if (info.state.messages === 0) return [];
  const consumer = await jetstream(nc).consumers.get(stream); // ordered; filtered here (2.9 has no filter_subjects)
  const out: { subject: string; data: Uint8Array; type: string; msgId: string }[] = [];
  const last = info.state.last_seq;
  const messages = await consumer.consume();
  for await (const m of messages) {
    if (!prefix || m.subject.startsWith(prefix))
      out.push({
        subject: m.subject,
        data: m.data,
        type: m.headers?.get(Hdr.Type) ?? '',
        msgId: m.headers?.get(Hdr.MsgId) ?? '',
      });
    if (m.seq >= last || m.info.pending === 0) break;
  }
  return out;
}

/** Samples of every SampleBatch message, flattened. */
export function samplesOf(messages: { data: Uint8Array; type: string }[]): busway.v1.ISample[] {
  return messages
    .filter((m) => m.type === EventTypes.SampleBatch)
    .flatMap((m) => busway.v1.SampleBatch.decode(m.data).samples);
}

/** Identity of one sample across stages: point, source sequence and event time. */
export function sampleKey(s: busway.v1.ISample): string {
  return `${s.pointId}|${s.sequence?.toString()}|${s.eventTimeNs?.toString()}`;
}
