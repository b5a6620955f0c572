import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { busway, msFromTimeNs, Streams } from '@busway/proto';
import { Periods, windowStartMs } from './aggregate.js';
import type { Checkpoint } from './checkpoint.js';
import { aggregateOf } from './rollup-message.js';
import type { WindowBook } from './window-book.js';

/**
 * Rebuilds the open hours after a restart from the 1 min rollups already published for them: ROLLUP_1M from
 * the checkpoint's sequence, minutes inside [closed1hMs, closed1mMs). Later minutes are rebuilt from ORDERED.
 * Returns how many minutes were merged; `firstSeq` gets each open hour's first ROLLUP_1M sequence.
 */
export async function recoverHours(
  js: JetStreamClient,
  jsm: JetStreamManager,
  hours: WindowBook,
  cp: Checkpoint,
  firstSeq: Map<number, number>,
): Promise<number> {
  if (cp.rollup1mSeq === 0 || cp.closed1mMs === null) return 0;
  const { state } = await jsm.streams.info(Streams.Rollup1m.name);
  if (state.messages === 0 || state.last_seq < cp.rollup1mSeq) return 0;
  const consumer = await js.consumers.get(Streams.Rollup1m.name, {
    opt_start_seq: cp.rollup1mSeq,
    inactive_threshold: 30_000,
  });
  const messages = await consumer.consume({ max_messages: 1024 });
  let merged = 0;
  try {
    for await (const m of messages) {
      const r = busway.v1.Rollup.decode(m.data);
      const startMs = msFromTimeNs(r.startNs);
      if (startMs + Periods['1m'] <= cp.closed1mMs && r.path && r.metric) {
        const unsSubject = `uns.v1.${m.subject.split('.').slice(3).join('.')}`;
        const point = { unsSubject, path: r.path, metric: r.metric, unit: r.unit ?? '' };
        if (hours.addAggregate(point, aggregateOf(r)) === 'added') {
          merged++;
          const hour = windowStartMs(startMs, Periods['1h']);
          if (!firstSeq.has(hour)) firstSeq.set(hour, m.seq);
        }
      }
      if (m.seq >= state.last_seq || m.info.pending === 0) break;
    }
  } finally {
    messages.stop();
    consumer.delete().catch(() => undefined);
  }
  return merged;
}
