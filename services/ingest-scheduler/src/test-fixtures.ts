import { busway } from '@busway/proto';
import { Hdr, readDeadLetters, type WorkerRuntime } from '@busway/runtime';

// Readers of what the bridge stored, shared by the integration tests.

export interface StoredEvent {
  msgId: string;
  event: busway.v1.IEvent;
}

/** Every event on the subjects matching `filter` of a stream, oldest first. */
export async function eventsIn(rt: WorkerRuntime, stream: string, filter: string): Promise<StoredEvent[]> {
  const info = await rt.jsm.streams.info(stream, { subjects_filter: filter });
  const total = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  if (total === 0) return [];
  const consumer = await rt.js.consumers.get(stream, { filter_subjects: filter });
  const out: StoredEvent[] = [];
  let messages = 0;
  for await (const m of await consumer.fetch({ max_messages: total, expires: 5000 })) {
    for (const event of busway.v1.EventBatch.decode(m.data).events)
      out.push({ msgId: m.headers?.get(Hdr.MsgId) ?? '', event });
    if (++messages >= total) break;
  }
  return out;
}

/** `jobId:PHASE` of each event, in order. */
export const phasesOf = (events: StoredEvent[]) =>
  events.map(
    (e) => `${e.event.job?.jobId}:${busway.v1.JobPhase[e.event.job?.phase ?? 0]?.replace('JOB_PHASE_', '')}`,
  );

export const deadLetters = (rt: WorkerRuntime) => readDeadLetters(rt.jsm);

export const published = (rt: WorkerRuntime) =>
  rt.metrics.value('busway_messages_total', { stage: 'ingest', outcome: 'published' });
