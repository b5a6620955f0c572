import type { MsgHdrs } from '@nats-io/transport-node';
import { busway, EventTypes, rfc3339Nano, unsSubject } from '@busway/proto';
import { Hdr } from '@busway/runtime';

export type Json = Record<string, unknown>;

const QUALITY = ['unspecified', 'good', 'uncertain', 'bad', 'stale'];
const CLOCK = ['unspecified', 'ptp', 'ntp', 'device', 'ingest'];

function valueOf(s: busway.v1.ISample): unknown {
  if (s.doubleValue != null) return s.doubleValue;
  if (s.intValue != null) return Number(s.intValue.toString());
  if (s.boolValue != null) return s.boolValue;
  if (s.stringValue != null) return s.stringValue;
  return null;
}

/** One JSON object per sample, with the fields an operator reads: metric, value, unit, time, quality, source. */
export function sampleToJson(subject: string, s: busway.v1.ISample): Json {
  return {
    subject,
    uns: s.path && s.metric ? unsSubject(s.path, s.metric) : undefined,
    metric: s.metric || undefined,
    pointId: s.pointId,
    value: valueOf(s),
    unit: s.unit ?? '',
    time: rfc3339Nano(s.eventTimeNs),
    clock: CLOCK[s.clockSource ?? 0],
    quality: QUALITY[s.quality ?? 0],
    source: s.source ? `${s.source.protocol}:${s.source.address}` : undefined,
    unregistered: s.unregistered || undefined,
    flags: s.flags?.length ? s.flags : undefined,
  };
}

/**
 * Decodes any fabric message by its CloudEvents type into JSON objects (one per sample, event, incident or
 * score). A dead letter decodes as its reason; an unknown type as its headers and size.
 */
export function decodeFabricMessage(subject: string, data: Uint8Array, h: MsgHdrs | undefined): Json[] {
  const type = h?.get(Hdr.Type) ?? '';
  if (h?.get(Hdr.DlqCode)) {
    return [
      {
        subject,
        deadLetter: {
          code: h.get(Hdr.DlqCode),
          reason: h.get(Hdr.DlqReason),
          stage: h.get(Hdr.DlqStage),
          from: h.get(Hdr.DlqSubject),
        },
        type,
        bytes: data.length,
      },
    ];
  }
  switch (type) {
    case EventTypes.SampleBatch:
      return busway.v1.SampleBatch.decode(data).samples.map((s) => sampleToJson(subject, s));
    case EventTypes.EventBatch:
      return busway.v1.EventBatch.decode(data).events.map((e) => ({
        subject,
        ...busway.v1.Event.toObject(e as busway.v1.Event, { longs: String, enums: String, defaults: false }),
        time: rfc3339Nano(e.eventTimeNs),
      }));
    case EventTypes.Incident: {
      const i = busway.v1.Incident.decode(data);
      return [
        {
          subject,
          ...busway.v1.Incident.toObject(i, { longs: String, enums: String }),
          time: rfc3339Nano(i.startNs),
        },
      ];
    }
    case EventTypes.AnomalyBatch:
      return busway.v1.AnomalyBatch.decode(data).scores.map((a) => ({
        subject,
        metric: a.metric,
        pointId: a.pointId,
        score: a.score,
        label: a.label,
        expected: a.expected,
        observed: a.observed,
        reason: a.reason,
        time: rfc3339Nano(a.eventTimeNs),
      }));
    default:
      return [{ subject, type: type || 'unknown', bytes: data.length }];
  }
}

/** One human-readable line for a decoded object. */
export function formatLine(o: Json): string {
  if (o.deadLetter) return `DLQ ${o.subject} ${JSON.stringify(o.deadLetter)}`;
  if ('value' in o) return `${o.time} ${o.uns ?? o.pointId} = ${String(o.value)} ${o.unit} [${o.quality}]`;
  if ('score' in o) return `${o.time} ${o.pointId} score=${Number(o.score).toFixed(3)} ${o.label}`;
  return JSON.stringify(o);
}
