import { randomUUID } from 'node:crypto';
import {
  context,
  createContextKey,
  isSpanContextValid,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type SpanOptions,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, RandomIdGenerator } from '@opentelemetry/sdk-trace-base';
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
 * Starts OpenTelemetry for one worker. With an OTLP endpoint, the SDK sends spans to `<endpoint>/v1/traces`
 * and, when `metrics` is given, the worker's Prometheus registry to `<endpoint>/v1/metrics`. Without one,
 * spans only carry trace context on (`PropagatingTracer`), so it keeps flowing through NATS headers to
 * workers that do export.
 */
export function initTracing(worker: string, otlpEndpoint?: string, metrics?: Registry): Tracing {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const base = otlpEndpoint?.replace(/\/$/, '');
  if (!base) return propagateOnly();
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      'service.name': `busway-${worker}`,
      'service.namespace': 'busway',
      // replicas of one worker apart: the pod name in Kubernetes, else a fresh id per process
      'service.instance.id': process.env.HOSTNAME || randomUUID(),
    }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }))],
    // explicit, or the SDK would export empty metrics and logs to localhost:4318 from the environment's defaults
    metricReaders: metrics ? [otlpMetricReader(`${base}/v1/metrics`, metrics)] : [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

const ids = new RandomIdGenerator();

/**
 * A tracer for a worker that exports nothing: each span is a non-recording span with a fresh id in its
 * parent's trace (or a new sampled trace), so `traceparent` goes on as with the SDK, which would build a full
 * span per message only to drop it (tens of µs per message on the Sparkplug bridge).
 */
export class PropagatingTracer implements Tracer {
  startSpan(_name: string, options: SpanOptions = {}, ctx: Context = context.active()): Span {
    const parent = options.root ? undefined : trace.getSpanContext(ctx);
    const valid = parent !== undefined && isSpanContextValid(parent);
    return trace.wrapSpanContext({
      traceId: valid ? parent.traceId : ids.generateTraceId(),
      spanId: ids.generateSpanId(),
      traceFlags: valid ? parent.traceFlags : TraceFlags.SAMPLED,
    });
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...args: unknown[]): ReturnType<F> {
    const fn = args[args.length - 1] as F;
    const options = (args.length > 1 ? args[0] : {}) as SpanOptions;
    const parent = (args.length > 2 ? args[1] : context.active()) as Context;
    const span = this.startSpan(name, options, parent);
    return context.with(trace.setSpan(parent, span), fn as (s: Span) => ReturnType<F>, undefined, span);
  }
}

let propagating = false;

/** Registers the context manager and PropagatingTracer once per process: workers sharing a process share them. */
function propagateOnly(): Tracing {
  if (!propagating) {
    propagating = true;
    const contextManager = new AsyncLocalStorageContextManager().enable();
    if (!context.setGlobalContextManager(contextManager)) contextManager.disable();
    const tracer = new PropagatingTracer();
    const provider: TracerProvider = { getTracer: () => tracer };
    trace.setGlobalTracerProvider(provider);
  }
  // kept for the process's other workers, as the SDK's globals are
  return { shutdown: async () => undefined };
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
