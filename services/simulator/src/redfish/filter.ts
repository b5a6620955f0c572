// The subset of the SSE `$filter` syntax (DSP0266, "Server-sent events") this service understands.

/** What an event on the stream is, as a filter sees it. */
export interface StreamEvent {
  formatType: 'Event' | 'MetricReport';
  /** `@odata.id` of the report's definition, for a metric report. */
  reportDefinition?: string;
}

export type EventPredicate = (e: StreamEvent) => boolean;

const TERM = /^\s*(EventFormatType|MetricReportDefinition)\s+eq\s+('([^']*)'|[A-Za-z]+)\s*$/;

function termOf(text: string): EventPredicate {
  const m = TERM.exec(text);
  if (!m) throw new Error(`unsupported $filter term: ${text.trim()}`);
  const value = m[3] ?? m[2] ?? '';
  if (m[1] === 'EventFormatType') return (e) => e.formatType === value;
  const id = value.replace(/\/+$/, '');
  return (e) => e.reportDefinition?.replace(/\/+$/, '') === id;
}

/**
 * A predicate from `EventFormatType eq MetricReport`, `MetricReportDefinition eq '<uri>'` and their `or` / `and`
 * combinations (and binds tighter); throws on anything else, which the service answers with 400.
 */
export function parseEventFilter(filter: string): EventPredicate {
  const alternatives = filter.split(/\s+or\s+/i).map((alt) => alt.split(/\s+and\s+/i).map(termOf));
  return (e) => alternatives.some((all) => all.every((p) => p(e)));
}
