import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { propagation, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { Histogram, Registry } from 'prom-client';
import { PromMetricProducer } from './otel-metrics.js';
import { mergeProvenance, provenanceOf, withSourceTime } from './provenance.js';
import { injectTrace, PropagatingTracer, startBatchSpan, startSendSpan } from './tracing.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');

/** Headers of a message sent from a fresh trace, and that send span's context. */
function sentFrom(name: string): { h: MsgHdrs; ctx: Context } {
  const span = tracer.startSpan(name, {}, ROOT_CONTEXT);
  const ctx = trace.setSpan(ROOT_CONTEXT, span);
  const h = headers();
  injectTrace(h, ctx);
  span.end();
  return { h, ctx };
}

const finished = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);

describe('trace context across a merging stage', () => {
  before(() => {
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  });
  after(async () => {
    await provider.shutdown();
    trace.disable();
    propagation.disable();
  });
  beforeEach(() => exporter.reset());

  it('continues the sender trace for a one-message batch and links every sender of a larger one', () => {
    const a = sentFrom('a');
    const b = sentFrom('b');
    startBatchSpan('normalize', 'raw.v1.x', [a.h], { consumer: 'normalizer', stream: 'RAW' }).end();
    startBatchSpan('normalize', 'raw.v1.x', [a.h, b.h], { consumer: 'normalizer', stream: 'RAW' }).end();
    const [single, merged] = finished('process raw.v1.x');
    const aCtx = trace.getSpanContext(a.ctx);
    assert.equal(single?.spanContext().traceId, aCtx?.traceId);
    assert.equal(single?.parentSpanContext?.spanId, aCtx?.spanId);
    assert.deepEqual(single?.links, []);
    assert.notEqual(merged?.spanContext().traceId, aCtx?.traceId, 'a merged batch starts its own trace');
    assert.deepEqual(
      merged?.links.map((l) => l.context.spanId),
      [aCtx?.spanId, trace.getSpanContext(b.ctx)?.spanId],
    );
    assert.equal(merged?.attributes['messaging.batch.message_count'], 2);
    assert.equal(merged?.attributes['messaging.consumer.group.name'], 'normalizer');
    assert.equal(merged?.attributes['messaging.operation.type'], 'process');
  });

  it('publishes what a buffer held under the trace it came in with, or links them all when it merges several', () => {
    const a = withSourceTime(sentFrom('a').ctx, '2027-01-15T08:00:02.000Z');
    const b = withSourceTime(sentFrom('b').ctx, '2027-01-15T08:00:01.000Z');
    const flushing = trace.setSpan(ROOT_CONTEXT, tracer.startSpan('flush', {}, ROOT_CONTEXT));

    const one = mergeProvenance([provenanceOf(a), provenanceOf(a)], flushing);
    startSendSpan('ordered.v1.one', one).end();
    const [continued] = finished('send ordered.v1.one');
    assert.equal(continued?.parentSpanContext?.spanId, trace.getSpanContext(a)?.spanId);
    assert.deepEqual(continued?.links, []);

    const both = mergeProvenance([provenanceOf(a), provenanceOf(b), undefined], flushing);
    startSendSpan('ordered.v1.both', both).end();
    const [linked] = finished('send ordered.v1.both');
    assert.equal(linked?.parentSpanContext?.spanId, trace.getSpanContext(flushing)?.spanId);
    assert.deepEqual(
      new Set(linked?.links.map((l) => l.context.spanId)),
      new Set([trace.getSpanContext(a)?.spanId, trace.getSpanContext(b)?.spanId]),
    );
    assert.equal(provenanceOf(both).sourceTime, '2027-01-15T08:00:01.000Z', 'the oldest source time');
  });
});

describe('the Prometheus registry read as OTel metrics', () => {
  it('turns cumulative Prometheus buckets into per-bucket counts with the overflow last', async () => {
    const registry = new Registry();
    const h = new Histogram({
      name: 'h_seconds',
      help: 'h',
      labelNames: ['stage'],
      buckets: [0.1, 1],
      registers: [registry],
    });
    for (const v of [0.05, 0.5, 0.7, 3]) h.observe({ stage: 's' }, v);
    const result = await new PromMetricProducer(registry).collect();
    const metric = result.resourceMetrics.scopeMetrics[0]?.metrics.find(
      (m) => m.descriptor.name === 'h_seconds',
    );
    const point = metric?.dataPoints[0] as
      | { attributes: Record<string, unknown>; value: { buckets: unknown; count: number; sum: number } }
      | undefined;
    assert.deepEqual(point?.attributes, { stage: 's' });
    assert.deepEqual(point?.value.buckets, { boundaries: [0.1, 1], counts: [1, 2, 1] });
    assert.equal(point?.value.count, 4);
    assert.equal(point?.value.sum, 4.25);
  });
});

describe('PropagatingTracer (a worker without an exporter)', () => {
  const propagating = new PropagatingTracer();
  const traceparentOf = (span: ReturnType<PropagatingTracer['startSpan']>) => {
    const h = headers();
    new W3CTraceContextPropagator().inject(trace.setSpan(ROOT_CONTEXT, span), h, {
      set: (carrier, key, value) => carrier.set(key, value),
    });
    return h.get('traceparent');
  };

  it("continues its parent's trace with a span id of its own, and keeps the parent's sampling flag", () => {
    const { ctx } = sentFrom('upstream');
    const parent = trace.getSpanContext(ctx);
    const span = propagating.startSpan('send x', {}, ctx);
    assert.equal(span.spanContext().traceId, parent?.traceId);
    assert.notEqual(span.spanContext().spanId, parent?.spanId);
    assert.equal(span.spanContext().traceFlags, parent?.traceFlags);
    assert.equal(span.isRecording(), false, 'nothing is recorded: there is no exporter');
    assert.match(traceparentOf(span), new RegExp(`^00-${parent?.traceId}-[0-9a-f]{16}-01$`));
  });

  it('starts a new sampled trace without a parent, or when asked for a root span', () => {
    const { ctx } = sentFrom('upstream');
    const fresh = propagating.startSpan('poll', {}, ROOT_CONTEXT);
    const root = propagating.startSpan('poll', { root: true }, ctx);
    for (const span of [fresh, root]) {
      assert.match(traceparentOf(span), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      assert.notEqual(span.spanContext().traceId, trace.getSpanContext(ctx)?.traceId);
    }
    assert.notEqual(fresh.spanContext().traceId, root.spanContext().traceId);
  });
});
