import { busway } from '@busway/proto';
import { Hdr, readDeadLetters, type WorkerRuntime } from '@busway/runtime';

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

type Json = Record<string, unknown>;

/** The DLQ's dead letters with their JSON bodies. */
export const deadLetters = async (rt: WorkerRuntime) =>
  (await readDeadLetters(rt.jsm)).map((d) => ({
    ...d,
    body: JSON.parse(new TextDecoder().decode(d.data)) as Json,
  }));

export const outcome = (rt: WorkerRuntime, name: string) =>
  rt.metrics.value('busway_messages_total', { stage: 'ingest', outcome: name });
