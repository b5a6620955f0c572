import { busway, EventTypes, Long, msFromTimeNs, Subjects, timeNsFromMs } from '@busway/proto';
import { fabricHeaders } from '@busway/runtime';
import type { MsgHdrs } from '@nats-io/transport-node';
import { Periods, type Aggregate, type Period } from './aggregate.js';
import type { WindowEntry } from './window-book.js';

/** A rollup ready to publish: its subject, payload, headers and deterministic id. */
export interface RollupMessage {
  subject: string;
  data: Uint8Array;
  headers: MsgHdrs;
  id: string;
}

/** Subject, payload and Nats-Msg-Id of one point's window: the same window always gets the same id. */
export function rollupMessage(period: Period, e: WindowEntry): RollupMessage {
  const subject = Subjects.rollup(period, e.unsSubject);
  const id = `${subject}@${e.startMs}`;
  const data = busway.v1.Rollup.encode({
    path: e.path,
    metric: e.metric,
    unit: e.unit,
    startNs: timeNsFromMs(e.startMs),
    periodS: Periods[period] / 1000,
    min: e.agg.min,
    max: e.agg.max,
    sum: e.agg.sum,
    count: Long.fromNumber(e.agg.count, true),
    firstNs: timeNsFromMs(e.agg.firstMs),
    lastNs: timeNsFromMs(e.agg.lastMs),
    last: e.agg.last,
  }).finish();
  const headers = fabricHeaders({
    type: EventTypes.Rollup,
    source: '/busway/history',
    id,
    time: new Date(e.startMs).toISOString(), // the window start: history reads search by it
  });
  return { subject, data, headers, id };
}

/** The aggregate a rollup message carries. */
export function aggregateOf(r: busway.v1.IRollup): Aggregate {
  return {
    min: r.min ?? 0,
    max: r.max ?? 0,
    sum: r.sum ?? 0,
    count: Number(r.count?.toString() ?? 0),
    firstMs: msFromTimeNs(r.firstNs),
    lastMs: msFromTimeNs(r.lastNs),
    last: r.last ?? 0,
  };
}
