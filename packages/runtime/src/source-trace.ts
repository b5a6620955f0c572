import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import type { IPublishPacket } from 'mqtt';
import { failSpan, startSourceSpan } from './tracing.js';

type UserProperties = Record<string, string | string[]>;
const userPropertyGetter: TextMapGetter<UserProperties> = {
  keys: (p) => Object.keys(p),
  get: (p, key) => p[key],
};

/** The trace a source message already carries: MQTT 5 user properties `traceparent`/`tracestate` (W3C MQTT draft). */
function mqttParent(packet?: Pick<IPublishPacket, 'properties'>): Context {
  const props = packet?.properties?.userProperties as UserProperties | undefined;
  return props ? propagation.extract(ROOT_CONTEXT, props, userPropertyGetter) : ROOT_CONTEXT;
}

/**
 * Runs a bridge's handling of one source message inside its own span, so every fabric message it publishes
 * (with `context.active()` as parent) continues that span's trace; the span ends once `work` settles.
 * Resolves false (a span marked failed) when the work gave up before the fabric stored the message.
 */
export async function inSourceSpan(
  span: Span,
  parent: Context,
  work: () => Promise<boolean>,
): Promise<boolean> {
  try {
    const stored = await context.with(trace.setSpan(parent, span), work);
    if (!stored) span.setStatus({ code: SpanStatusCode.ERROR, message: 'not stored: the bridge stopped' });
    return stored;
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/**
 * One MQTT message taken by a bridge: a `process <topic>` consumer span (OTel messaging conventions,
 * `messaging.system=mqtt`), continuing the trace the publisher put in MQTT 5 user properties if any.
 */
export function traceMqttMessage(
  topic: string,
  payload: Uint8Array,
  packet: Pick<IPublishPacket, 'properties' | 'qos'> | undefined,
  work: () => Promise<boolean>,
): Promise<boolean> {
  const parent = mqttParent(packet);
  const span = startSourceSpan(
    `process ${topic}`,
    {
      'messaging.system': 'mqtt',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': topic,
      'messaging.message.body.size': payload.length,
      'messaging.mqtt.qos': packet?.qos ?? 0,
    },
    { parent },
  );
  return inSourceSpan(span, parent, work);
}

/**
 * One poll cycle of a polling bridge, from the poll's start until JetStream stores it: a `poll <protocol>`
 * client span, the root of the trace its samples travel in.
 */
export function tracePollCycle(
  source: { protocol: string; id: string; address: string },
  pollMs: number,
  samples: number,
  work: () => Promise<boolean>,
): Promise<boolean> {
  const span = startSourceSpan(
    `poll ${source.protocol}`,
    {
      'busway.source.protocol': source.protocol,
      'busway.source.id': source.id,
      'server.address': source.address,
      'busway.samples': samples,
    },
    { kind: SpanKind.CLIENT, startTimeMs: pollMs, parent: ROOT_CONTEXT },
  );
  return inSourceSpan(span, ROOT_CONTEXT, work);
}
