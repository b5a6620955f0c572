import { type busway, rfc3339Nano } from '@busway/proto';
import { cloudEventOf as cloudEventJson } from '@busway/runtime';
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

/** A fabric message as a structured-mode CloudEvent (JSON data for known types, data_base64 otherwise). */
export function cloudEventOf(
  subject: string,
  data: Uint8Array,
  headers: MsgHdrs | undefined,
  seq: number,
): string {
  return JSON.stringify(cloudEventJson({ subject, data, headers, seq }, '/busway'));
}
