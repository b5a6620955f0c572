import type { MsgHdrs } from '@nats-io/transport-node';
import { busway, EventTypes } from '@busway/proto';
import { DecodeError } from './errors.js';
import { Hdr, readEnvelope } from './headers.js';
import { ownValue } from './own-value.js';

// Fabric messages as CloudEvents JSON, for the consumers outside the fabric (webhooks, MQTT republish).

/** A CloudEvent in JSON format (CloudEvents 1.0, structured mode), with the distributed-tracing extension. */
export interface CloudEventJson {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time?: string;
  /** The NATS subject: what a receiver routes on (`uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-r1.flow.coolant`). */
  subject: string;
  datacontenttype: string;
  traceparent?: string;
  data?: unknown;
  data_base64?: string;
}

/** A fabric message as JetStream handed it to the consumer. */
export interface FabricMessage {
  subject: string;
  data: Uint8Array;
  headers?: MsgHdrs;
  /** Stream sequence: the event id when the message carries no ce-id. */
  seq: number;
}

interface JsonCodec {
  decode(data: Uint8Array): { toJSON(): Record<string, unknown> };
}

/** Payloads that become JSON data; any other type travels as data_base64 with its own content type. */
const CODECS: Record<string, JsonCodec> = {
  [EventTypes.SampleBatch]: busway.v1.SampleBatch,
  [EventTypes.EventBatch]: busway.v1.EventBatch,
  [EventTypes.Incident]: busway.v1.Incident,
  [EventTypes.AnomalyBatch]: busway.v1.AnomalyBatch,
  [EventTypes.Rollup]: busway.v1.Rollup,
  [EventTypes.Command]: busway.v1.Command,
  [EventTypes.CommandStatus]: busway.v1.CommandStatus,
};

/**
 * One fabric message as a CloudEvent: protobuf payloads of a known type become JSON `data` (64-bit numbers as
 * decimal strings, enums by name), anything else is carried unchanged in `data_base64`. Throws DecodeError
 * when a payload of a known type does not decode.
 */
export function cloudEventOf(msg: FabricMessage, fallbackSource: string): CloudEventJson {
  const env = readEnvelope(msg.headers);
  const event: CloudEventJson = {
    specversion: '1.0',
    id: env.id || `${msg.subject}:${msg.seq}`,
    source: env.source || fallbackSource,
    type: env.type || 'busway.v1.Unknown',
    subject: msg.subject,
    datacontenttype: 'application/json',
  };
  if (env.time) event.time = env.time;
  const traceparent = msg.headers?.get(Hdr.TraceParent);
  if (traceparent) event.traceparent = traceparent;
  const codec = ownValue(CODECS, env.type); // the type is input: `constructor` must find no codec
  if (codec) {
    try {
      event.data = codec.decode(msg.data).toJSON();
    } catch (err) {
      throw new DecodeError(`${env.type} on ${msg.subject} does not decode: ${(err as Error).message}`, {
        cause: err,
      });
    }
  } else {
    event.datacontenttype = env.contentType || 'application/octet-stream';
    event.data_base64 = Buffer.from(msg.data).toString('base64');
  }
  return event;
}
