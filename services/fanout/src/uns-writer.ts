import type { Context } from '@opentelemetry/api';
import { bigIntFromTimeNs, type busway, EventTypes, rfc3339Nano } from '@busway/proto';
import { fabricHeaders, sendTraced, type JetStreamPublisher } from '@busway/runtime';
import { decodeWireSample, sampleBatchOf, type WireSample } from './sample-wire.js';

const QUALITY = ['unspecified', 'good', 'uncertain', 'bad', 'stale'];

/** The samples of one point in one fetched batch, in event-time order. */
export interface PointSamples {
  subject: string;
  samples: WireSample[];
}

const byTime = (a: WireSample, b: WireSample) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0);

/**
 * Groups samples by UNS subject, each group in event-time order. One UNS message per point and batch: when
 * fan-out falls behind, its batches grow and so do the groups, so it writes fewer, fuller messages exactly
 * when it needs to catch up; at low rates a group is usually one sample.
 */
export function groupByPoint(batches: Iterable<WireSample[]>): PointSamples[] {
  const groups = new Map<string, WireSample[]>();
  for (const samples of batches)
    for (const s of samples) {
      const g = groups.get(s.subject);
      if (g) g.push(s);
      else groups.set(s.subject, [s]);
    }
  const out: PointSamples[] = [];
  for (const [subject, samples] of groups) {
    // ORDERED is in event-time order per point: sort only when it is not
    if (samples.some((s, i) => i > 0 && byTime(samples[i - 1] as WireSample, s) > 0)) samples.sort(byTime);
    out.push({ subject, samples });
  }
  return out;
}

/**
 * Keeps, per point, only samples newer than the last value already stored (`storedNs`, from Redis, undefined
 * when the point has none) and newer than each other. So each UNS subject only grows in event time: a sample
 * seen before (a redelivery after the batch was stored, a re-emission after an upstream restart) is dropped
 * here, and history reads can binary-search a subject by time. Returns the groups left and how many were dropped.
 */
export function newerThanStored(
  groups: PointSamples[],
  storedNs: (bigint | undefined)[],
): { groups: PointSamples[]; stale: number } {
  const kept: PointSamples[] = [];
  let stale = 0;
  groups.forEach((g, i) => {
    let last = storedNs[i] ?? -1n;
    const samples = g.samples.filter((s) => {
      if (s.timeNs <= last) return false;
      last = s.timeNs;
      return true;
    });
    stale += g.samples.length - samples.length;
    if (samples.length > 0) kept.push({ subject: g.subject, samples });
  });
  return { groups: kept, stale };
}

/**
 * What goes to UNS from one batch: fresh groups only where newer than the stored last value (a re-emission after
 * an upstream restart is not written twice), and every redelivered group whatever Redis says: a batch delivered
 * again after this worker died may hold samples older than a newer batch stored meanwhile, yet never stored
 * themselves. The duplicate window drops a redelivered message that was stored after all.
 */
export function groupsToStore(
  fresh: PointSamples[],
  storedNs: (bigint | undefined)[],
  redelivered: PointSamples[],
): { groups: PointSamples[]; stale: number } {
  const kept = newerThanStored(fresh, storedNs);
  return { groups: [...kept.groups, ...redelivered], stale: kept.stale };
}

/**
 * Nats-Msg-Id of a group: the same samples on the same subject always give the same id, so a redelivery is
 * stored once; the subject is part of it, so a point re-mapped by the registry is stored on its new subject too.
 */
export function unsMessageId(g: PointSamples): string {
  const first = g.samples[0] as WireSample;
  const last = g.samples[g.samples.length - 1] as WireSample;
  const id = `${g.subject}|${decodeWireSample(first).pointId}@${first.timeNs}`;
  return g.samples.length === 1 ? id : `${id}..${last.timeNs}#${g.samples.length}`;
}

/**
 * Publishes each group to its UNS subject through JetStream (stream UNS keeps the history; live subscribers
 * get the same message), at most `maxPending` awaiting their PubAck at once. Rejects if any is not stored.
 */
export async function publishGroups(
  js: JetStreamPublisher,
  groups: PointSamples[],
  ctx: Context,
  maxPending: number,
): Promise<void> {
  for (let i = 0; i < groups.length; i += maxPending) {
    await Promise.all(
      groups.slice(i, i + maxPending).map((g) => {
        const id = unsMessageId(g);
        const h = fabricHeaders({
          type: EventTypes.SampleBatch,
          source: '/busway/fanout',
          id,
          time: rfc3339Nano((g.samples[0] as WireSample).timeNs), // the event time of its first sample
        });
        const data = sampleBatchOf(g.samples);
        // a `send` span per UNS message: the subscriber's traceparent points at the delivery itself
        return sendTraced(g.subject, ctx, h, () => js.publish(g.subject, data, { headers: h, msgID: id }), {
          'messaging.message.id': id,
          'messaging.message.body.size': data.length,
        });
      }),
    );
  }
}

function valueFields(s: busway.v1.ISample): [string, string] {
  if (s.doubleValue != null) return [String(s.doubleValue), 'double'];
  if (s.intValue != null) return [s.intValue.toString(), 'int'];
  if (s.boolValue != null) return [String(s.boolValue), 'bool'];
  if (s.stringValue != null) return [s.stringValue, 'string'];
  return ['', 'null']; // a reading without a value (a Sparkplug null): not an empty string
}

/** Arguments of SET_IF_NEWER_LUA for a point's newest sample: timeNs, then the hash's field/value pairs. */
export function lastValueArgs(s: busway.v1.ISample): string[] {
  const [value, type] = valueFields(s);
  const p = s.path ?? {};
  return [
    bigIntFromTimeNs(s.eventTimeNs).toString(),
    'value',
    value,
    'type',
    type,
    'unit',
    s.unit ?? '',
    'metric',
    s.metric ?? '',
    'pointId',
    s.pointId ?? '',
    'time',
    rfc3339Nano(s.eventTimeNs),
    'quality',
    QUALITY[s.quality ?? 0] ?? 'unspecified',
    'unregistered',
    String(!!s.unregistered),
    'site',
    p.site ?? '',
    'hall',
    p.hall ?? '',
    'row',
    p.row ?? '',
    'rack',
    p.rack ?? '',
    'assetClass',
    p.assetClass ?? '',
    'asset',
    p.asset ?? '',
  ];
}
