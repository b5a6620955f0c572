import { busway } from '@busway/proto';
import { Hdr, type WorkerRuntime } from '@busway/runtime';

// Readers of what the bridge and the normalizer stored, shared by the integration tests.

export interface StoredBatch {
  subject: string;
  id: string;
  samples: busway.v1.ISample[];
}

/** Every SampleBatch on a stream's subjects matching `filter`, oldest first. */
export async function batchesIn(rt: WorkerRuntime, stream: string, filter: string): Promise<StoredBatch[]> {
  const info = await rt.jsm.streams.info(stream, { subjects_filter: filter });
  const total = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  if (total === 0) return [];
  const consumer = await rt.js.consumers.get(stream, { filter_subjects: filter });
  const out: StoredBatch[] = [];
  for await (const m of await consumer.fetch({ max_messages: total, expires: 5000 })) {
    out.push({
      subject: m.subject,
      id: m.headers?.get(Hdr.MsgId) ?? '',
      samples: busway.v1.SampleBatch.decode(m.data).samples,
    });
    if (out.length >= total) break;
  }
  return out;
}

export async function samplesIn(
  rt: WorkerRuntime,
  stream: string,
  filter: string,
): Promise<busway.v1.ISample[]> {
  return (await batchesIn(rt, stream, filter)).flatMap((b) => b.samples);
}

export interface DeadLetter {
  origin: string;
  code: string;
  reason: string;
  body: Record<string, unknown>;
}

export async function deadLetters(rt: WorkerRuntime): Promise<DeadLetter[]> {
  const info = await rt.jsm.streams.info('DLQ');
  const out: DeadLetter[] = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const m = await rt.jsm.streams.getMessage('DLQ', { seq }).catch(() => null);
    if (!m) continue;
    out.push({
      origin: m.header.get(Hdr.DlqSubject),
      code: m.header.get(Hdr.DlqCode),
      reason: m.header.get(Hdr.DlqReason),
      body: JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>,
    });
  }
  return out;
}

export const outcome = (rt: WorkerRuntime, name: string) =>
  rt.metrics.value('busway_messages_total', { stage: 'ingest', outcome: name });
