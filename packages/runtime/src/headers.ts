import { randomUUID } from 'node:crypto';
import { headers, type MsgHdrs } from '@nats-io/transport-node';

/** Header names every fabric message carries (CloudEvents binary mode + W3C trace context + dedup). */
export const Hdr = {
  Id: 'ce-id',
  Type: 'ce-type',
  Source: 'ce-source',
  Time: 'ce-time',
  SpecVersion: 'ce-specversion',
  DataContentType: 'ce-datacontenttype',
  TraceParent: 'traceparent',
  TraceState: 'tracestate',
  MsgId: 'Nats-Msg-Id',
  DlqReason: 'busway-dlq-reason',
  DlqCode: 'busway-dlq-code',
  DlqStage: 'busway-dlq-stage',
  DlqSubject: 'busway-dlq-subject',
  DlqDeliveries: 'busway-dlq-deliveries',
  /** The MQTT topic a message arrived on (a bridge's AUDIT copy, an MQTT dead letter). */
  MqttTopic: 'mqtt-topic',
  /** On a dead letter sent back by `busway redrive`: `DLQ:<its sequence there>`. */
  RedrivenFrom: 'busway-redriven-from',
} as const;

export const PROTOBUF_CONTENT_TYPE = 'application/protobuf';

export interface FabricEnvelope {
  /** CloudEvents type: the protobuf message name, e.g. busway.v1.SampleBatch. */
  type: string;
  /** CloudEvents source: URI of the emitter, e.g. /busway/normalizer or /sparkplug/hall1/edge-7. */
  source: string;
  /** Stable id: the same logical message always gets the same id, so JetStream drops a republish. */
  id?: string;
  /** When the event happened (RFC 3339). @default now */
  time?: string;
  contentType?: string;
}

/** Headers for one fabric message; trace context is added by `injectTrace`. */
export function fabricHeaders(env: FabricEnvelope): MsgHdrs {
  const h = headers();
  const id = env.id ?? randomUUID();
  // append, not set: the headers are new, and set first deletes (a scan of every key) on each message
  h.append(Hdr.SpecVersion, '1.0');
  h.append(Hdr.Id, id);
  h.append(Hdr.Type, env.type);
  h.append(Hdr.Source, env.source);
  h.append(Hdr.Time, env.time ?? new Date().toISOString());
  h.append(Hdr.DataContentType, env.contentType ?? PROTOBUF_CONTENT_TYPE);
  h.append(Hdr.MsgId, id);
  return h;
}

/** The CloudEvents attributes of a received message (missing ones as empty strings). */
export function readEnvelope(h: MsgHdrs | undefined): Required<FabricEnvelope> {
  return {
    id: h?.get(Hdr.Id) ?? '',
    type: h?.get(Hdr.Type) ?? '',
    source: h?.get(Hdr.Source) ?? '',
    time: h?.get(Hdr.Time) ?? '',
    contentType: h?.get(Hdr.DataContentType) ?? '',
  };
}
