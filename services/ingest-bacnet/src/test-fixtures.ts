import { busway, Subjects } from '@busway/proto';
import { Hdr, readDeadLetters, type WorkerRuntime } from '@busway/runtime';

// Readers of what the bridge stored, shared by the integration tests.

export interface Batch {
  id: string;
  samples: busway.v1.ISample[];
}

/** Every SampleBatch of one device on RAW, oldest first, with its message id (an ordered consumer reads them). */
export async function batchesOf(rt: WorkerRuntime, device: string): Promise<Batch[]> {
  const subject = Subjects.rawSamples('bacnet', device);
  const info = await rt.jsm.streams.info('RAW', { subjects_filter: subject });
  const total = info.state.subjects?.[subject] ?? 0;
  if (total === 0) return [];
  const consumer = await rt.js.consumers.get('RAW', { filter_subjects: subject });
  const out: Batch[] = [];
  for await (const m of await consumer.fetch({ max_messages: total, expires: 5000 })) {
    out.push({ id: m.headers?.get(Hdr.MsgId) ?? '', samples: busway.v1.SampleBatch.decode(m.data).samples });
    if (out.length >= total) break;
  }
  return out;
}

/** Every sample of one device, oldest first. */
export async function samplesOf(rt: WorkerRuntime, device: string): Promise<busway.v1.ISample[]> {
  return (await batchesOf(rt, device)).flatMap((b) => b.samples);
}

/** Samples by the end of their point id: `analog-input:1`. */
export const byObject = (samples: busway.v1.ISample[]) =>
  new Map(samples.map((s) => [String(s.pointId).split(':').slice(-2).join(':'), s]));

type Json = Record<string, unknown>;

/** The DLQ's dead letters with their JSON bodies (a failed read's origin: `bacnet:<ip>:<port>/<type>:<instance>`). */
export const deadLetters = async (rt: WorkerRuntime) =>
  (await readDeadLetters(rt.jsm)).map((d) => ({
    ...d,
    body: JSON.parse(new TextDecoder().decode(d.data)) as Json,
  }));

export const outcome = (rt: WorkerRuntime, name: string) =>
  rt.metrics.value('busway_messages_total', { stage: 'ingest', outcome: name });
