// What reached each stage, compared with what entered the one before: lost = expected − seen, duplicates =
// seen more often than expected, counted by sample identity over multisets (two real samples may share one).
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { busway, EventTypes } from '@busway/proto';
import { Hdr } from '@busway/runtime';
import { readStream } from '../streams.js';

/** One hop of the pipeline. */
export interface HopCount {
  hop: string;
  expected: number;
  seen: number;
  lost: number;
  duplicates: number;
  /** Seen but never expected (the expectation missed it, or the stage made it up). */
  unexpected: number;
  /** A few lost identities, for the report. */
  lostExamples: string[];
  duplicateExamples: string[];
}

export interface DeadLetterCount {
  subject: string;
  code: string;
  reason: string;
}

export interface Ledger {
  hops: HopCount[];
  /** Samples the correlator sent to ordered.v1.late (not on UNS by design), by point prefix. */
  late: number;
  lateExamples: string[];
  /** Anomaly scores with the same point and event time more than once. */
  duplicateScores: number;
  scores: number;
  deadLetters: DeadLetterCount[];
  /** Every sample of NORM (for scenario checks such as clock skew). */
  norm: busway.v1.ISample[];
  ordered: { subject: string; sample: busway.v1.ISample }[];
}

type Msg = Awaited<ReturnType<typeof readStream>>[number];

/** A sample's identity across every stage: the normalizer may clamp its event time, never its sequence. */
export const sourceKey = (s: busway.v1.ISample) => `${s.pointId}|${s.sequence?.toString()}`;
/** After the normalizer: point, sequence and event time (what the correlator deduplicates by). */
export const fullKey = (s: busway.v1.ISample) => `${sourceKey(s)}|${s.eventTimeNs?.toString()}`;

function countOf(keys: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

/** Compares two multisets of identities. */
export function compareHop(hop: string, expected: Iterable<string>, seen: Iterable<string>): HopCount {
  const want = countOf(expected);
  const got = countOf(seen);
  const out: HopCount = {
    hop,
    expected: 0,
    seen: 0,
    lost: 0,
    duplicates: 0,
    unexpected: 0,
    lostExamples: [],
    duplicateExamples: [],
  };
  for (const [k, n] of want) {
    out.expected += n;
    const g = got.get(k) ?? 0;
    if (g < n) {
      out.lost += n - g;
      if (out.lostExamples.length < 5) out.lostExamples.push(k);
    }
  }
  for (const [k, n] of got) {
    out.seen += n;
    const w = want.get(k) ?? 0;
    if (w === 0) out.unexpected += n;
    else if (n > w) {
      out.duplicates += n - w;
      if (out.duplicateExamples.length < 5) out.duplicateExamples.push(`${k} ×${n}`);
    }
  }
  return out;
}

const samplesIn = (msgs: Msg[]) =>
  msgs
    .filter((m) => m.type === EventTypes.SampleBatch)
    .flatMap((m) => {
      try {
        return busway.v1.SampleBatch.decode(m.data).samples;
      } catch {
        return []; // poison a scenario put on the stream: the next stage dead-letters it
      }
    });

/**
 * Reads RAW, NORM, ORDERED, UNS, ANOMALIES and DLQ once the pipeline has drained, and accounts for every
 * sample: MQTT → RAW (by DDATA message, against the observer), RAW → NORM → ORDERED → UNS (by sample), and
 * RAW → UNS end to end, where a sample the correlator sent to ordered.v1.late counts as delivered there.
 */
export async function readLedger(
  nc: NatsConnection,
  jsm: JetStreamManager,
  observed: ReadonlyMap<string, number>,
): Promise<Ledger> {
  const rawMsgs = await readStream(nc, jsm, 'RAW', 'raw.v1.samples.');
  const raw = samplesIn(rawMsgs);
  const norm = samplesIn(await readStream(nc, jsm, 'NORM', 'norm.v1.samples.'));
  const orderedMsgs = await readStream(nc, jsm, 'ORDERED', 'ordered.v1.');
  const ordered = orderedMsgs
    .filter((m) => m.type === EventTypes.SampleBatch)
    .flatMap((m) => samplesIn([m]).map((sample) => ({ subject: m.subject, sample })));
  const uns = samplesIn(await readStream(nc, jsm, 'UNS'));
  const late = ordered.filter((o) => o.subject.startsWith('ordered.v1.late.')).map((o) => o.sample);
  const onTime = ordered.filter((o) => o.subject.startsWith('ordered.v1.samples.')).map((o) => o.sample);

  const ddataIds = rawMsgs.map((m) => m.msgId).filter((id) => id.includes(':DDATA:'));
  const hops = [
    compareHop('MQTT→RAW (DDATA messages)', observed.keys(), ddataIds),
    compareHop('RAW→NORM (normalizer)', raw.map(sourceKey), norm.map(sourceKey)),
    compareHop('NORM→ORDERED (correlator)', norm.map(fullKey), [...onTime, ...late].map(fullKey)),
    compareHop('ORDERED→UNS (fanout)', new Set(onTime.map(fullKey)), uns.map(fullKey)),
    compareHop('RAW→UNS or late (end to end)', raw.map(sourceKey), [...uns, ...late].map(sourceKey)),
  ];

  const scores = (await readStream(nc, jsm, 'ANOMALIES')).flatMap((m) =>
    m.type === EventTypes.AnomalyBatch ? busway.v1.AnomalyBatch.decode(m.data).scores : [],
  );
  const scoreKeys = countOf(scores.map((s) => `${s.pointId}|${s.eventTimeNs?.toString()}`));
  let duplicateScores = 0;
  for (const n of scoreKeys.values()) duplicateScores += n - 1;

  const deadLetters: DeadLetterCount[] = [];
  const dlqInfo = await jsm.streams.info('DLQ');
  for (
    let seq = dlqInfo.state.first_seq;
    seq <= dlqInfo.state.last_seq && dlqInfo.state.messages > 0;
    seq++
  ) {
    const m = await jsm.streams.getMessage('DLQ', { seq }).catch(() => undefined);
    if (!m) continue;
    deadLetters.push({
      subject: m.subject,
      code: m.header.get(Hdr.DlqCode) ?? '',
      reason: m.header.get(Hdr.DlqReason) ?? '',
    });
  }
  return {
    hops,
    late: late.length,
    lateExamples: late.slice(0, 5).map(fullKey),
    duplicateScores,
    scores: scores.length,
    deadLetters,
    norm,
    ordered,
  };
}
