import {
  context,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { MsgHdrs } from '@nats-io/transport-node';

const getter: TextMapGetter<MsgHdrs> = {
  keys: (h) => h.keys(),
  get: (h, key) => h.get(key) || undefined,
};
const setter: TextMapSetter<MsgHdrs> = { set: (h, key, value) => h.set(key, value) };

export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK for one worker. Without an OTLP endpoint spans are still created, so
 * trace context keeps flowing through NATS headers to workers that do export.
 */
export function initTracing(worker: string, otlpEndpoint?: string): Tracing {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': `busway-${worker}`, 'service.namespace': 'busway' }),
    // without any processor the SDK registers no tracer provider, and spans would carry no context at all
    spanProcessors: otlpEndpoint
      ? [
          new BatchSpanProcessor(
            new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/$/, '')}/v1/traces` }),
          ),
        ]
      : [new NoopSpanProcessor()],
    instrumentations: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

/** Writes the active (or given) trace context into NATS headers as `traceparent`. */
export function injectTrace(h: MsgHdrs, ctx: Context = context.active()): void {
  propagation.inject(ctx, h, setter);
}

/** The trace context a message arrived with. */
export function extractTrace(h: MsgHdrs | undefined): Context {
  return h ? propagation.extract(context.active(), h, getter) : context.active();
}

const tracer = () => trace.getTracer('busway');

/**
 * A `process` span for one fetched batch (OTel messaging conventions). A batch merges messages
 * from many traces: a single-message batch continues its trace, a larger one links to each.
 */
export function startBatchSpan(stage: string, subject: string, parents: (MsgHdrs | undefined)[]): Span {
  const links: Link[] = [];
  for (const h of parents) {
    const sc = trace.getSpanContext(extractTrace(h));
    if (sc) links.push({ context: sc });
  }
  const parent = parents.length === 1 ? extractTrace(parents[0]) : context.active();
  return tracer().startSpan(
    `process ${subject}`,
    {
      kind: SpanKind.CONSUMER,
      links: parents.length === 1 ? [] : links,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'process',
        'messaging.destination.name': subject,
        'messaging.consumer.group.name': stage,
        'messaging.batch.message_count': parents.length,
      },
    },
    parent,
  );
}

/** A `send` span for one publish, child of `parent`; its context goes into the message headers. */
export function startSendSpan(subject: string, parent: Context): Span {
  return tracer().startSpan(
    `send ${subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'send',
        'messaging.destination.name': subject,
      },
    },
    parent,
  );
}

export function failSpan(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : new Error(String(err)));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

export { context, trace };
