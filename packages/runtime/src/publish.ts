import { trace, type Context } from '@opentelemetry/api';
import type { PubAck } from '@nats-io/jetstream';
import { fabricHeaders, type FabricEnvelope } from './headers.js';
import type { JetStreamPublisher } from './pub-acks.js';
import { sourceTimeOf } from './provenance.js';
import { injectTrace, startSendSpan, failSpan } from './tracing.js';

/**
 * Publishes one fabric message to JetStream with CloudEvents headers, a `send` span whose context travels
 * in `traceparent`, and the envelope id as Nats-Msg-Id. Resolves when the stream has stored it.
 */
export async function publishFabric(
  js: JetStreamPublisher,
  subject: string,
  data: Uint8Array,
  envelope: FabricEnvelope & { id: string },
  parent: Context,
  /** Headers beyond the envelope's, e.g. the MQTT topic a forwarded message arrived on. */
  extra?: Readonly<Record<string, string>>,
): Promise<PubAck> {
  const span = startSendSpan(subject, parent, {
    'messaging.message.id': envelope.id,
    'messaging.message.body.size': data.length,
  });
  // no time of its own: the occurrence's time its input carried (see withSourceTime), else now
  const h = fabricHeaders({ ...envelope, time: envelope.time ?? sourceTimeOf(parent) });
  for (const name in extra) h.append(name, extra[name] as string);
  injectTrace(h, trace.setSpan(parent, span));
  try {
    // the headers hold the envelope id as Nats-Msg-Id already: JetStream dedups on it
    return await js.publish(subject, data, { headers: h });
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}
