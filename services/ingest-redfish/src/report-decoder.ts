import { createHash } from 'node:crypto';
import { busway, Long, timeNsFromBigInt } from '@busway/proto';
import { ErrorCode, type DeadLetterReason } from '@busway/runtime';
import { metricOf, readMetricValue, unitFromName } from './metric.js';
import { parseRedfishTime } from './time.js';

/** What the decoder needs to know besides the report. */
export interface DecodeContext {
  endpointId: string;
  /** The service's base URL: samples' source address is it plus the property URI. */
  baseUrl: string;
  /** Configured units by metric name: they win. */
  units: Readonly<Record<string, string>>;
  /** Units the service's MetricDefinitions state, by definition URI and by MetricId. */
  definitionUnits: ReadonlyMap<string, string>;
  ingestTimeNs: Long;
}

/** A MetricValue that could not become a sample, and why. */
export interface ValueReject {
  index: number;
  metric?: string;
  reason: string;
  /** The MetricValue as it came. */
  value: unknown;
}

export interface DecodedReport {
  kind: 'report';
  reportId: string;
  /** `@odata.id` of the report, for addresses. */
  uri: string;
  /** ReportSequence when it is a non-negative integer (as the schema's string or as a number). */
  sequence?: bigint;
  /** A digest of Timestamp and MetricValues: tells a re-sent report from a new one with the same sequence. */
  fingerprint: string;
  samples: busway.v1.ISample[];
  rejects: ValueReject[];
}

/** What one report body turned into: a report, another event (an alert: not telemetry), or a dead letter. */
export type Decoded =
  DecodedReport | { kind: 'other'; what: string } | { kind: 'invalid'; reason: DeadLetterReason };

const MAX_ID = 256;
const invalid = (code: string, message: string): Decoded => ({ kind: 'invalid', reason: { code, message } });
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The last segment of an `@odata.id`-style reference. */
function idOfRef(ref: unknown): string | undefined {
  const uri = isObject(ref) ? ref['@odata.id'] : ref;
  if (typeof uri !== 'string') return undefined;
  const last = uri.replace(/\/+$/, '').split('/').pop();
  return last ? last : undefined;
}

function sequenceOf(v: unknown): bigint | undefined {
  if (typeof v === 'string' && /^\s*\d{1,19}\s*$/.test(v)) return BigInt(v.trim());
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  return undefined;
}

/**
 * Decodes a MetricReport (v1.0 to v1.5) as SSE, a push or a GET delivers it. Never throws: anything that is not
 * a report becomes `invalid` with the reason (or `other` for a non-telemetry Event); a report's MetricValues
 * become samples, and the ones that cannot are listed in `rejects` with why.
 */
export function decodeReport(body: string, ctx: DecodeContext): Decoded {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    return invalid(ErrorCode.Decode, `not JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc))
    return invalid(
      ErrorCode.Contract,
      `a report is a JSON object, not ${Array.isArray(doc) ? 'an array' : typeof doc}`,
    );
  const type = typeof doc['@odata.type'] === 'string' ? doc['@odata.type'] : '';
  if (Array.isArray(doc.Events) || /^#?Event\./.test(type)) return { kind: 'other', what: type || 'Event' };
  const values = doc.MetricValues ?? [];
  if (!Array.isArray(values)) return invalid(ErrorCode.Contract, 'MetricValues is not an array');
  const reportId =
    (typeof doc.Id === 'string' && doc.Id) ||
    idOfRef(doc['@odata.id']) ||
    idOfRef(doc.MetricReportDefinition);
  if (!reportId)
    return invalid(ErrorCode.Contract, 'the report has no Id, @odata.id or MetricReportDefinition');
  if (reportId.length > MAX_ID) return invalid(ErrorCode.Contract, `report Id over ${MAX_ID} characters`);
  const uri =
    typeof doc['@odata.id'] === 'string'
      ? doc['@odata.id']
      : `/redfish/v1/TelemetryService/MetricReports/${reportId}`;
  const sequence = sequenceOf(doc.ReportSequence);
  const reportTimeNs = typeof doc.Timestamp === 'string' ? parseRedfishTime(doc.Timestamp) : undefined;
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([doc.Timestamp ?? null, doc.ReportSequence ?? null, values]))
    .digest('base64url')
    .slice(0, 16);
  const out: DecodedReport = {
    kind: 'report',
    reportId,
    uri,
    sequence,
    fingerprint,
    samples: [],
    rejects: [],
  };
  values.forEach((mv: unknown, index) => {
    const result = sampleOf(mv, reportTimeNs, sequence, ctx);
    if ('sample' in result) out.samples.push(result.sample);
    else out.rejects.push({ index, ...result, value: mv });
  });
  return out;
}

function sampleOf(
  mv: unknown,
  reportTimeNs: bigint | undefined,
  sequence: bigint | undefined,
  ctx: DecodeContext,
): { sample: busway.v1.ISample } | { metric?: string; reason: string } {
  if (!isObject(mv)) return { reason: 'a MetricValue is not an object' };
  const metric = metricOf(mv);
  if (!metric) return { reason: 'neither a usable MetricId nor a MetricProperty' };
  const reading = readMetricValue(mv.MetricValue);
  if (!reading.ok) return { metric, reason: reading.reason };
  const flags: string[] = [];
  let timeNs = typeof mv.Timestamp === 'string' ? parseRedfishTime(mv.Timestamp) : undefined;
  if (timeNs === undefined && mv.Timestamp !== undefined && mv.Timestamp !== null)
    flags.push('bad-source-time');
  timeNs ??= reportTimeNs;
  const property = typeof mv.MetricProperty === 'string' ? mv.MetricProperty : '';
  const sample: busway.v1.ISample = {
    pointId: `redfish:${ctx.endpointId}:${metric}`,
    unit: unitOf(metric, mv, ctx),
    eventTimeNs: timeNs === undefined ? ctx.ingestTimeNs : timeNsFromBigInt(timeNs),
    clockSource:
      timeNs === undefined
        ? busway.v1.ClockSource.CLOCK_SOURCE_INGEST
        : busway.v1.ClockSource.CLOCK_SOURCE_DEVICE,
    ingestTimeNs: ctx.ingestTimeNs,
    quality: reading.value === null ? busway.v1.Quality.QUALITY_BAD : busway.v1.Quality.QUALITY_GOOD,
    source: { protocol: 'redfish', address: `${ctx.baseUrl}${property}`, sourceId: ctx.endpointId },
    flags,
    ...reading.value,
  };
  if (timeNs === undefined) flags.push('no-source-time');
  if (reading.value === null) flags.push('no-reading');
  if (sequence !== undefined) sample.sequence = Long.fromString(sequence.toString(), true);
  return { sample };
}

function unitOf(metric: string, mv: Record<string, unknown>, ctx: DecodeContext): string {
  if (Object.hasOwn(ctx.units, metric)) return ctx.units[metric] ?? '';
  const definition = isObject(mv.MetricDefinition) ? mv.MetricDefinition['@odata.id'] : undefined;
  const stated =
    (typeof definition === 'string' ? ctx.definitionUnits.get(definition) : undefined) ??
    (typeof mv.MetricId === 'string' ? ctx.definitionUnits.get(mv.MetricId) : undefined);
  return stated ?? unitFromName(metric);
}
