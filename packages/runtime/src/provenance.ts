import { createContextKey, ROOT_CONTEXT, trace, type Context, type SpanContext } from '@opentelemetry/api';
import { withLinks } from './tracing.js';

const SOURCE_TIME = createContextKey('busway.source-time');

/** Most links one merged output records; the SDK keeps 128 by default, more would only be dropped. */
const MAX_LINKS = 128;

/**
 * When the occurrence behind what a context processes happened: the `ce-time` (RFC 3339) of its input, or the
 * oldest of a batch's. `publishFabric` gives it to outputs that set no time of their own, so `ce-time` keeps
 * the source's time through every stage, and each stage can measure event time → processed.
 */
export function withSourceTime(ctx: Context, time: string | undefined): Context {
  return time ? ctx.setValue(SOURCE_TIME, time) : ctx;
}

export function sourceTimeOf(ctx: Context): string | undefined {
  return ctx.getValue(SOURCE_TIME) as string | undefined;
}

/** The oldest of some RFC 3339 times (unparseable ones ignored). */
export function oldestTime(times: Iterable<string | undefined>): string | undefined {
  let oldest: string | undefined;
  let oldestMs = Number.POSITIVE_INFINITY;
  for (const t of times) {
    const ms = t ? Date.parse(t) : Number.NaN;
    if (ms < oldestMs) {
      oldest = t;
      oldestMs = ms;
    }
  }
  return oldest;
}

/**
 * What a worker keeps beside what it holds for later (a reorder buffer, a window), so the output that
 * eventually carries it continues or links back to the trace it came in with, and keeps its source time.
 */
export interface Provenance {
  span?: SpanContext;
  sourceTime?: string;
}

export function provenanceOf(ctx: Context): Provenance {
  return { span: trace.getSpanContext(ctx), sourceTime: sourceTimeOf(ctx) };
}

/**
 * The context to publish a merged output from (pass it to `publishFabric`): made of one input, it continues
 * that input's trace; of several, its `send` span links to each (OTel messaging: links where batches merge)
 * under `base`'s span. Its source time is the oldest of theirs.
 */
export function mergeProvenance(
  sources: Iterable<Provenance | undefined>,
  base: Context = ROOT_CONTEXT,
): Context {
  const spans = new Map<string, SpanContext>();
  const times: (string | undefined)[] = [];
  for (const p of sources) {
    if (!p) continue;
    if (p.span && spans.size < MAX_LINKS) spans.set(p.span.spanId, p.span);
    times.push(p.sourceTime);
  }
  const only = spans.size === 1 ? [...spans.values()][0] : undefined;
  const ctx = only ? trace.setSpanContext(base, only) : withLinks(base, [...spans.values()]);
  return withSourceTime(ctx, oldestTime(times) ?? sourceTimeOf(base));
}
