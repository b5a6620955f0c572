import { randomUUID } from 'node:crypto';
import {
  context,
  createContextKey,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import { otlpMetricReader } from './otel-metrics.js';

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
 * trace context keeps flowing through NATS headers to workers that do export. With one, spans go to
 * `<endpoint>/v1/traces` and, when `metrics` is given, the worker's Prometheus registry to `<endpoint>/v1/metrics`.
 */
export function initTracing(worker: string, otlpEndpoint?: string, metrics?: Registry): Tracing {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const base = otlpEndpoint?.replace(/\/$/, '');
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      'service.name': `busway-${worker}`,
      'service.namespace': 'busway',
      // replicas of one worker apart: the pod name in Kubernetes, else a fresh id per process
      'service.instance.id': process.env.HOSTNAME || randomUUID(),
    }),
    // without any processor the SDK registers no tracer provider, and spans would carry no context at all
    spanProcessors: base
      ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }))]
      : [new NoopSpanProcessor()],
    // explicit, or the SDK would export empty metrics and logs to localhost:4318 from the environment's defaults
    metricReaders: base && metrics ? [otlpMetricReader(`${base}/v1/metrics`, metrics)] : [],
    logRecordProcessors: [],
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
const LINKS = createContextKey('busway.links');

/** Spans the next `send` span started from this context links to (what a merged output was made of). */
export function withLinks(ctx: Context, links: SpanContext[]): Context {
  return links.length > 0 ? ctx.setValue(LINKS, links) : ctx;
}

const linksOf = (ctx: Context): Link[] =>
  ((ctx.getValue(LINKS) as SpanContext[] | undefined) ?? []).map((sc) => ({ context: sc }));

/** What a `process` span knows of the consumer it runs for. */
export interface BatchSpanOptions {
  /** Durable consumer name: `messaging.consumer.group.name` (every replica of the durable shares it). */
  consumer?: string;
  /** JetStream stream the consumer reads. */
  stream?: string;
  /** Bytes of the batch's payloads: `messaging.message.body.size` of a single message. */
  bodyBytes?: number;
  /** The single message's id (`ce-id` / `Nats-Msg-Id`). */
  messageId?: string;
}

/**
 * A `process` span for one fetched batch (OTel messaging conventions). A batch merges messages
 * from many traces: a single-message batch continues its trace, a larger one links to each.
 */
export function startBatchSpan(
  stage: string,
  subject: string,
  parents: (MsgHdrs | undefined)[],
  opts: BatchSpanOptions = {},
): Span {
  const links: Link[] = [];
  for (const h of parents) {
    const sc = trace.getSpanContext(extractTrace(h));
    if (sc) links.push({ context: sc });
  }
  const single = parents.length === 1;
  const parent = single ? extractTrace(parents[0]) : context.active();
  const attributes: Attributes = {
    'messaging.system': 'nats',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': subject,
    'messaging.consumer.group.name': opts.consumer ?? stage,
    'messaging.batch.message_count': parents.length,
    'busway.stage': stage,
  };
  if (opts.stream) attributes['busway.stream'] = opts.stream;
  if (single && opts.messageId) attributes['messaging.message.id'] = opts.messageId;
  if (single && opts.bodyBytes !== undefined) attributes['messaging.message.body.size'] = opts.bodyBytes;
  return tracer().startSpan(
    `process ${subject}`,
    { kind: SpanKind.CONSUMER, links: single ? [] : links, attributes },
    parent,
  );
}

/**
 * A `send` span for one publish, child of `parent`; its context goes into the message headers. Links set on
 * `parent` with `withLinks` (the inputs a merged output came from) become the span's links.
 */
export function startSendSpan(subject: string, parent: Context, attributes: Attributes = {}): Span {
  return tracer().startSpan(
    `send ${subject}`,
    {
      kind: SpanKind.PRODUCER,
      links: linksOf(parent),
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'publish',
        'messaging.destination.name': subject,
        ...attributes,
      },
    },
    parent,
  );
}

/**
 * Runs one publish inside a `send` span: the span's context goes into `h` (`traceparent`), a failure marks
 * the span, and the span ends when the publish settles. For publishes that do not go through `publishFabric`.
 */
export async function sendTraced<T>(
  subject: string,
  parent: Context,
  h: MsgHdrs,
  send: () => Promise<T>,
  attributes: Attributes = {},
): Promise<T> {
  const span = startSendSpan(subject, parent, attributes);
  injectTrace(h, trace.setSpan(parent, span));
  try {
    return await send();
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/**
 * The span of one message a bridge takes from its source (an MQTT message, a poll cycle): the root of the
 * trace that its fabric messages continue. Run the bridge's work inside `context.with(trace.setSpan(…))`.
 */
export function startSourceSpan(
  name: string,
  attributes: Attributes,
  opts: { kind?: SpanKind; startTimeMs?: number; parent?: Context } = {},
): Span {
  return tracer().startSpan(
    name,
    { kind: opts.kind ?? SpanKind.CONSUMER, attributes, startTime: opts.startTimeMs },
    opts.parent ?? context.active(),
  );
}

export function failSpan(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : new Error(String(err)));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

export { context, trace };
