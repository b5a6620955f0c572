// A strict reader of the Prometheus text exposition format 0.0.4 (what dcgm-exporter serves).

export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
const FAMILY_TYPES: readonly string[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

/** One sample line: `name{label="value",…} value [timestamp]`. */
export interface Series {
  name: string;
  labels: Record<string, string>;
  /** May be NaN or ±Infinity: the format allows them. */
  value: number;
  /** Milliseconds since the epoch, when the line carries one. */
  timestampMs?: number;
  /** 1-based line number. */
  line: number;
}

/** What `# HELP` and `# TYPE` said about a metric name. */
export interface Family {
  type?: FamilyType;
  help?: string;
}

/** A line that does not follow the format: it yields nothing, and is reported with why. */
export interface ParseProblem {
  line: number;
  /** Stable kind of the problem (bad-name, bad-label, bad-value, ...). */
  code: string;
  reason: string;
  text: string;
}

export interface Exposition {
  series: Series[];
  families: Map<string, Family>;
  problems: ParseProblem[];
  /** Lines that are empty or comments (HELP and TYPE included). */
  skipped: number;
  /** Lines in the text (a final newline does not start one). */
  lines: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|inf)$|^NaN$/;
const INT = /^-?\d+$/;

class LineError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The value text as a number: Go's ParseFloat spellings that the format allows (NaN, +Inf, -Inf, 1e3). */
export function parseValue(text: string): number {
  if (!FLOAT.test(text)) throw new LineError('bad-value', `'${text}' is not a number`);
  if (text === 'NaN') return NaN;
  if (/^[+-]?[Ii]nf$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}

const isBlank = (c: string | undefined) => c === ' ' || c === '\t';

/** Reads `{a="x",b="y"}` from `text[at]` (which is `{`); returns the labels and the index after `}`. */
function readLabels(text: string, start: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  const skip = () => {
    while (isBlank(text[i])) i++;
  };
  for (;;) {
    skip();
    if (text[i] === '}') return { labels, end: i + 1 };
    const name = LABEL_NAME.exec(text.slice(i))?.[0];
    if (!name) throw new LineError('bad-label', `a label name was expected at column ${i + 1}`);
    if (Object.hasOwn(labels, name)) throw new LineError('bad-label', `label '${name}' appears twice`);
    i += name.length;
    skip();
    if (text[i] !== '=') throw new LineError('bad-label', `'=' was expected after label '${name}'`);
    i++;
    skip();
    if (text[i] !== '"') throw new LineError('bad-label', `a quoted value was expected for label '${name}'`);
    i++;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new LineError('bad-label', `the value of label '${name}' is not closed`);
      if (c === '"') break;
      if (c === '\\') {
        const e = text[i + 1];
        if (e === '\\' || e === '"') value += e;
        else if (e === 'n') value += '\n';
        else throw new LineError('bad-label', `'\\${e ?? ''}' is not an escape the format knows`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    // defined, not assigned: a label named __proto__ is a label like any other
    Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
    i++;
    skip();
    if (text[i] === ',') i++;
    else if (text[i] !== '}')
      throw new LineError('bad-label', `',' or '}' was expected after label '${name}'`);
  }
}

function readSeries(text: string, line: number): Series {
  const name = METRIC_NAME.exec(text)?.[0];
  if (!name) throw new LineError('bad-name', 'a line must start with a metric name');
  let i = name.length;
  let labels: Record<string, string> = {};
  if (text[i] === '{') ({ labels, end: i } = readLabels(text, i));
  if (!isBlank(text[i])) throw new LineError('bad-value', 'a space and a value were expected');
  const rest = text
    .slice(i)
    .trim()
    .split(/[ \t]+/);
  if (rest.length > 2) throw new LineError('bad-value', 'unexpected text after the timestamp');
  const [valueText = '', tsText] = rest;
  const series: Series = { name, labels, value: parseValue(valueText), line };
  if (tsText !== undefined) {
    const ts = INT.test(tsText) ? Number(tsText) : NaN;
    if (!Number.isSafeInteger(ts))
      throw new LineError('bad-timestamp', `'${tsText}' is not a timestamp in milliseconds`);
    series.timestampMs = ts;
  }
  return series;
}

const seriesKey = (s: Series) =>
  `${s.name}\u0000${Object.entries(s.labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}\u0001${v}`)
    .join('\u0000')}`;

/**
 * Reads a whole exposition line by line. A line that breaks the format (bad name, label, escape, value or
 * timestamp, a TYPE given twice or after its samples, a series given twice) yields a problem and nothing
 * else; every other line still counts. Never throws.
 */
export function parseExposition(text: string): Exposition {
  const out: Exposition = { series: [], families: new Map(), problems: [], skipped: 0, lines: 0 };
  const seen = new Set<string>();
  const sampled = new Set<string>();
  const rawLines = text.split('\n');
  if (rawLines.at(-1) === '') rawLines.pop();
  out.lines = rawLines.length;
  rawLines.forEach((raw, index) => {
    const line = index + 1;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const problem = (code: string, reason: string) =>
      out.problems.push({ line, code, reason, text: text.slice(0, 512) });
    if (text.trim() === '') return void out.skipped++;
    try {
      if (text.trimStart().startsWith('#')) {
        const m = /^\s*#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(text);
        if (!m) return void out.skipped++; // any other comment
        const [, keyword, name = '', arg = ''] = m;
        if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name))
          throw new LineError('bad-name', `'${name}' is not a metric name`);
        const family = out.families.get(name) ?? {};
        if (keyword === 'HELP') {
          if (family.help !== undefined)
            throw new LineError('duplicate-help', `HELP for ${name} given twice`);
          family.help = arg.replace(/\\(\\|n)/g, (_m, e: string) => (e === 'n' ? '\n' : '\\'));
        } else {
          const type = arg.trim();
          if (!FAMILY_TYPES.includes(type)) throw new LineError('bad-type', `'${type}' is not a metric type`);
          if (family.type !== undefined)
            throw new LineError('duplicate-type', `TYPE for ${name} given twice`);
          if (sampled.has(name)) throw new LineError('late-type', `TYPE for ${name} comes after its samples`);
          family.type = type as FamilyType;
        }
        out.families.set(name, family);
        out.skipped++;
        return;
      }
      const series = readSeries(text, line);
      const key = seriesKey(series);
      if (seen.has(key)) throw new LineError('duplicate-series', `series ${series.name} given twice`);
      seen.add(key);
      sampled.add(series.name);
      out.series.push(series);
    } catch (err) {
      if (err instanceof LineError) problem(err.code, err.message);
      else problem('bad-line', String(err));
    }
  });
  return out;
}

/** The family a series belongs to: its own name, or the histogram/summary it is a `_bucket`/`_sum`/`_count` of. */
export function familyOf(exposition: Exposition, name: string): Family | undefined {
  const own = exposition.families.get(name);
  if (own) return own;
  const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
  const family = base === undefined ? undefined : exposition.families.get(base);
  return family?.type === 'histogram' || family?.type === 'summary' ? family : undefined;
}
