import type { JetStreamClient, JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { bigIntFromTimeNs, busway, rfc3339Nano, Streams, Subjects } from '@busway/proto';
import { ApiError } from './errors.js';
import { PERIOD_MS, type Resolution } from './time-range.js';

export interface RawPoint {
  t: string;
  value: number | string | boolean | null;
  quality: string;
}
export interface RollupPoint {
  t: string;
  min: number;
  max: number;
  avg: number;
  count: number;
}
export interface HistoryResult {
  resolution: Resolution;
  unit?: string;
  points: (RawPoint | RollupPoint)[];
  /** More points than `limit` lie in the range: the points are not returned. */
  overLimit: boolean;
}

const QUALITY = ['unspecified', 'good', 'uncertain', 'bad', 'stale'];
const NS_PER_MS = 1_000_000n;

/** One stored message decoded: the event time it is searched by (ns) and what the response needs. */
interface Decoded<P> {
  timeNs: bigint;
  points: { timeNs: bigint; point: P }[];
  unit?: string;
}

const rawPoint = (s: busway.v1.ISample): RawPoint => ({
  t: rfc3339Nano(s.eventTimeNs),
  value:
    s.doubleValue ??
    (s.intValue != null ? Number(s.intValue.toString()) : undefined) ??
    s.boolValue ??
    s.stringValue ??
    null,
  quality: QUALITY[s.quality ?? 0] ?? 'unspecified',
});

/** A UNS message holds one point's samples of one fan-out batch, in event-time order: searched by its last. */
const decodeRaw = (m: { data: Uint8Array }): Decoded<RawPoint> | undefined => {
  const samples = busway.v1.SampleBatch.decode(m.data).samples;
  const last = samples[samples.length - 1];
  if (!last) return undefined;
  return {
    timeNs: bigIntFromTimeNs(last.eventTimeNs),
    points: samples.map((s) => ({ timeNs: bigIntFromTimeNs(s.eventTimeNs), point: rawPoint(s) })),
    unit: last.unit || undefined,
  };
};

const decodeRollup = (m: { data: Uint8Array }): Decoded<RollupPoint> => {
  const r = busway.v1.Rollup.decode(m.data);
  const count = Number(r.count?.toString() ?? 0);
  const timeNs = bigIntFromTimeNs(r.startNs);
  return {
    timeNs,
    points: [
      {
        timeNs,
        point: {
          t: rfc3339Nano(r.startNs),
          min: r.min,
          max: r.max,
          avg: count > 0 ? r.sum / count : 0,
          count,
        },
      },
    ],
    unit: r.unit || undefined,
  };
};

/**
 * History reads from JetStream: raw values from stream UNS, rollups from ROLLUP_1M / ROLLUP_1H, each on the
 * point's own subject. Per subject the streams are in event-time order (fan-out and the rollup worker write
 * in that order), so the first message reaching `from` (for UNS: whose last sample does) is found by a
 * binary search on the stream sequence with direct gets, and read from there with an ordered consumer until
 * `to`.
 */
export class HistoryStore {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly timeoutMs: number,
  ) {}

  async read(resolution: Resolution, unsSubject: string, fromNs: bigint, toNs: bigint, limit: number) {
    if (resolution === 'raw')
      return this.readRange(Streams.Uns.name, unsSubject, fromNs, toNs, limit, decodeRaw, resolution);
    // a window overlapping `from` counts: search from its start
    const periodNs = BigInt(PERIOD_MS[resolution]) * NS_PER_MS;
    const alignedNs = (fromNs / periodNs) * periodNs;
    const stream = resolution === '1m' ? Streams.Rollup1m.name : Streams.Rollup1h.name;
    const result = await this.readRange(
      stream,
      Subjects.rollup(resolution, unsSubject),
      alignedNs,
      toNs,
      limit,
      decodeRollup,
      resolution,
    );
    // a window republished after a crash (beyond the duplicate window) is stored twice: keep the last
    const byStart = new Map<string, RollupPoint>();
    for (const p of result.points as RollupPoint[]) byStart.set(p.t, p);
    return { ...result, points: [...byStart.values()] };
  }

  private async readRange<P extends RawPoint | RollupPoint>(
    stream: string,
    subject: string,
    fromNs: bigint,
    toNs: bigint,
    limit: number,
    decode: (m: { data: Uint8Array }) => Decoded<P> | undefined,
    resolution: Resolution,
  ): Promise<HistoryResult> {
    const deadline = Date.now() + this.timeoutMs;
    const start = await this.firstAtOrAfter(stream, subject, fromNs, decode, deadline);
    const points: P[] = [];
    let unit: string | undefined;
    if (start === undefined) return { resolution, points, overLimit: false };
    const consumer = await this.js.consumers.get(stream, {
      filter_subjects: subject, // a string: nats-server 2.9 knows only filter_subject
      opt_start_seq: start,
      inactive_threshold: 30_000, // the server removes it even if the delete below is lost
    });
    const messages = await consumer.consume({ max_messages: Math.min(limit + 1, 1000) });
    const timer = setTimeout(() => messages.stop(), Math.max(deadline - Date.now(), 1));
    let complete = false;
    let lastNs = -1n;
    try {
      for await (const m of messages) {
        const d = decode(m);
        for (const p of d?.points ?? []) {
          if (p.timeNs >= toNs) complete = true;
          // a sample stored twice (fan-out regrouped it after a redelivery) is not newer: skipped
          if (complete || p.timeNs < fromNs || p.timeNs <= lastNs) continue;
          if (points.length === limit) return { resolution, unit, points: [], overLimit: true };
          points.push(p.point);
          lastNs = p.timeNs;
          unit ??= d?.unit;
        }
        if (complete || m.info.pending === 0) {
          complete = true;
          break;
        }
      }
    } finally {
      clearTimeout(timer);
      messages.stop();
      consumer.delete().catch(() => undefined); // one ephemeral consumer per read: do not leave it behind
    }
    if (!complete) throw historyTimeout(this.timeoutMs);
    return { resolution, unit, points, overLimit: false };
  }

  /** The first sequence whose message on `subject` is searched by a time >= fromNs, or undefined when none is. */
  private async firstAtOrAfter<P>(
    stream: string,
    subject: string,
    fromNs: bigint,
    decode: (m: StoredMsg) => Decoded<P> | undefined,
    deadline: number,
  ): Promise<number | undefined> {
    const get = async (seq: number) => {
      if (Date.now() > deadline) throw historyTimeout(this.timeoutMs);
      return this.jsm.direct.getMessage(stream, { seq, next_by_subj: subject });
    };
    const timeOf = (m: StoredMsg) => decode(m)?.timeNs ?? -1n;
    const { state } = await this.jsm.streams.info(stream);
    if (state.messages === 0) return undefined;
    const first = await get(state.first_seq);
    if (!first) return undefined;
    if (timeOf(first) >= fromNs) return first.seq;
    let lo = first.seq + 1;
    let hi = state.last_seq + 1;
    let found: number | undefined;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const m = await get(mid);
      if (!m) hi = mid;
      else if (timeOf(m) < fromNs) lo = m.seq + 1;
      else {
        found = m.seq;
        hi = mid;
      }
    }
    return found === undefined ? undefined : lo;
  }
}

const historyTimeout = (ms: number) =>
  new ApiError(503, 'history-timeout', `the history read took longer than ${ms} ms; try a shorter range`, {
    'retry-after': '1',
  });
