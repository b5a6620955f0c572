import { busway, Subjects } from '@busway/proto';
import { Hdr, type WorkerRuntime } from '@busway/runtime';

// Readers of what the bridge stored, shared by the integration tests.

export interface Batch {
  id: string;
  samples: busway.v1.ISample[];
}

export interface DeadLetter {
  /** The failed read's address: `bacnet:<ip>:<port>/<type>:<instance>`. */
  origin: string;
  code: string;
  reason: string;
  body: Record<string, unknown>;
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
