import { busway, EventTypes, rfc3339Nano } from '@busway/proto';
import { DecodeError, Hdr, readEnvelope } from '@busway/runtime';
import type { MsgHdrs } from '@nats-io/transport-node';

const QUALITY = ['unspecified', 'good', 'uncertain', 'bad', 'stale'];

/** A sample's value as the UNS style publishes it. */
export interface UnsValue {
  value: number | boolean | string | null;
  unit: string;
  time: string;
  quality: string;
  metric: string;
  pointId: string;
  flags?: string[];
}

export function unsValueOf(s: busway.v1.ISample): UnsValue {
  let value: UnsValue['value'] = null;
  if (s.doubleValue != null)
    value = Number.isFinite(s.doubleValue) ? s.doubleValue : null; // JSON has no NaN
  else if (s.intValue != null) value = Number(s.intValue.toString());
  else if (s.boolValue != null) value = s.boolValue;
  else if (s.stringValue != null) value = s.stringValue;
  return {
    value,
    unit: s.unit ?? '',
    time: rfc3339Nano(s.eventTimeNs),
    quality: QUALITY[s.quality ?? 0] ?? 'unspecified',
    metric: s.metric ?? '',
    pointId: s.pointId ?? '',
    ...(s.flags && s.flags.length > 0 ? { flags: s.flags } : {}),
  };
}

interface JsonCodec {
  decode(data: Uint8Array): { toJSON(): Record<string, unknown> };
}

const CODECS: Record<string, JsonCodec> = {
  [EventTypes.SampleBatch]: busway.v1.SampleBatch,
  [EventTypes.EventBatch]: busway.v1.EventBatch,
  [EventTypes.Incident]: busway.v1.Incident,
  [EventTypes.AnomalyBatch]: busway.v1.AnomalyBatch,
  [EventTypes.Rollup]: busway.v1.Rollup,
  [EventTypes.Command]: busway.v1.Command,
  [EventTypes.CommandStatus]: busway.v1.CommandStatus,
};

/** A fabric message as a structured-mode CloudEvent (JSON data for known types, data_base64 otherwise). */
export function cloudEventOf(
  subject: string,
  data: Uint8Array,
  headers: MsgHdrs | undefined,
  seq: number,
): string {
  const env = readEnvelope(headers);
  const event: Record<string, unknown> = {
    specversion: '1.0',
    id: env.id || `${subject}:${seq}`,
    source: env.source || '/busway',
    type: env.type || 'busway.v1.Unknown',
    subject,
    ...(env.time ? { time: env.time } : {}),
    ...(headers?.get(Hdr.TraceParent) ? { traceparent: headers.get(Hdr.TraceParent) } : {}),
  };
  const codec = CODECS[env.type];
  if (codec) {
    try {
      event.datacontenttype = 'application/json';
      event.data = codec.decode(data).toJSON();
    } catch (err) {
      throw new DecodeError(`${env.type} on ${subject} does not decode: ${(err as Error).message}`, {
        cause: err,
      });
    }
  } else {
    event.datacontenttype = env.contentType || 'application/octet-stream';
    event.data_base64 = Buffer.from(data).toString('base64');
  }
  return JSON.stringify(event);
}
