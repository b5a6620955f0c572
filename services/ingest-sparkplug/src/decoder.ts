import { gunzipSync, inflateSync } from 'node:zlib';
import { busway, Long, org, timeNsFromMs } from '@busway/proto';
import { ContractViolation, DecodeError } from '@busway/runtime';
import { PayloadScanner } from './payload-scanner.js';
import type { MetricView as Metric, PayloadView as Payload } from './payload-view.js';
import { isControlMetric, pointIdOf, type Point, type PointTable } from './points.js';
import { sourceIdOf, type SparkplugTopic } from './topic.js';

const PayloadCodec = org.eclipse.tahu.protobuf.Payload;
/** Reads the common payload (scalar metrics) without the generated decoder; synchronous, so one serves all. */
const scanner = new PayloadScanner();

/** Sparkplug 3.0 datatypes (table 6.4.16). */
export const SpType = {
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt8: 5,
  UInt16: 6,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  Text: 14,
  UUID: 15,
  DataSet: 16,
  Bytes: 17,
  File: 18,
  Template: 19,
} as const;

/** What a birth certificate says about a metric, remembered for its data messages. */
export interface MetricDef {
  name: string;
  datatype: number;
  unit: string;
}

const COMPRESSED = 'SPBV1.0_COMPRESSED';

/**
 * Decodes a Sparkplug payload, inflating a compressed one (uuid SPBV1.0_COMPRESSED, body DEFLATE or, with an
 * `algorithm` metric, GZIP). A protobuf or a body that does not decode is a DecodeError (poison).
 */
export function decodePayload(data: Uint8Array): Payload {
  const scanned = scanner.scan(data);
  if (scanned) return scanned;
  let payload: Payload;
  try {
    payload = PayloadCodec.decode(data);
    if (payload.uuid !== COMPRESSED) return payload;
  } catch (err) {
    throw new DecodeError(`Sparkplug B payload does not decode: ${(err as Error).message}`, { cause: err });
  }
  const algorithm =
    payload.metrics.find((m) => m.name === 'algorithm')?.stringValue?.toUpperCase() ?? 'DEFLATE';
  try {
    const body = payload.body ?? new Uint8Array();
    const inner = algorithm === 'GZIP' ? gunzipSync(body) : inflateSync(body);
    return PayloadCodec.decode(inner);
  } catch (err) {
    throw new DecodeError(
      `compressed Sparkplug B payload (${algorithm}) does not decode: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

const toNum = (v: Long | number | null | undefined) =>
  v == null ? 0 : typeof v === 'number' ? v : v.toNumber();

/** The `engUnit` property of a metric, if it has one. */
export function engUnitOf(m: Metric): string {
  const keys = m.properties?.keys ?? [];
  const i = keys.findIndex((k) => k === 'engUnit' || k === 'engUnits');
  return i >= 0 ? (m.properties?.values?.[i]?.stringValue ?? '') : '';
}

/** Signed integers travel as uint32 two's complement (Sparkplug 3.0, 6.4.17). */
export function signedInt(v: number, datatype: number): number {
  if (datatype === SpType.Int8) return (v << 24) >> 24;
  if (datatype === SpType.Int16) return (v << 16) >> 16;
  if (datatype === SpType.Int32) return v | 0;
  return v;
}

/** Sets the sample's value from the metric's oneof by datatype; false for types this version does not carry. */
export function setValue(sample: busway.v1.ISample, m: Metric, datatype: number): boolean {
  if (m.isNull) return false;
  switch (datatype) {
    case SpType.Float:
    case SpType.Double:
      sample.doubleValue = m.doubleValue ?? m.floatValue ?? 0;
      return true;
    case SpType.Int8:
    case SpType.Int16:
    case SpType.Int32:
    case SpType.UInt8:
    case SpType.UInt16:
      sample.intValue = Long.fromNumber(signedInt(m.intValue ?? 0, datatype));
      return true;
    case SpType.UInt32:
      // Sparkplug 3.0 (and Tahu) put UInt32 in long_value; older edge nodes used int_value
      sample.intValue =
        m.longValue != null
          ? Long.fromValue(m.longValue).toSigned()
          : Long.fromNumber((m.intValue ?? 0) >>> 0);
      return true;
    case SpType.Int64:
      sample.intValue = Long.fromValue(m.longValue ?? 0).toSigned(); // two's complement in a uint64
      return true;
    case SpType.UInt64:
    case SpType.DateTime:
      sample.intValue = Long.fromValue(m.longValue ?? 0).toSigned(); // values above 2^63 wrap: sint64 on the fabric
      return true;
    case SpType.Boolean:
      sample.boolValue = m.booleanValue ?? false;
      return true;
    case SpType.String:
    case SpType.Text:
    case SpType.UUID:
      sample.stringValue = m.stringValue ?? '';
      return true;
    default:
      return false; // Bytes and File are not telemetry; DataSet and Template are flattened by leavesOf
  }
}

type Leaf = { name: string; m: Metric; datatype: number };

/**
 * The scalar leaves of a metric: itself, each cell of a DataSet (`name/row/column`, typed by its column), or
 * each member of a Template instance (`name/member`, recursively). A Template definition (in a birth) has none.
 */
export function leavesOf(name: string, m: Metric, datatype: number): Leaf[] {
  if (datatype === SpType.DataSet && m.datasetValue) {
    const ds = m.datasetValue;
    const out: Leaf[] = [];
    (ds.rows ?? []).forEach((row, r) =>
      (row.elements ?? []).forEach((cell, c) => {
        out.push({
          name: `${name}/${r}/${ds.columns?.[c] ?? c}`,
          m: cell as Metric,
          datatype: ds.types?.[c] ?? 0,
        });
      }),
    );
    return out;
  }
  if (datatype === SpType.Template && m.templateValue) {
    if (m.templateValue.isDefinition) return [];
    return (m.templateValue.metrics ?? []).flatMap((member) =>
      leavesOf(
        `${name}/${member.name ?? ''}`,
        { ...member, timestamp: member.timestamp ?? m.timestamp },
        member.datatype ?? 0,
      ),
    );
  }
  return [{ name, m, datatype }];
}

/** A metric by an alias that no birth defined: the node must rebirth before its data can be read. */
export class UnknownAlias extends ContractViolation {
  constructor(
    readonly alias: number,
    readonly sourceId: string,
  ) {
    super(`unknown alias ${alias} from ${sourceId}: no birth defined it (rebirth requested)`);
  }
}

export interface DecodeContext {
  topic: SparkplugTopic;
  address: string;
  /** alias -> definition, from the births. */
  byAlias: Map<number, MetricDef>;
  /** name -> definition, from the births. */
  byName: Map<string, MetricDef>;
  ingestTimeNs: Long;
  /** The node's or device's points: ids made once, last values kept. Without it, ids are made per sample. */
  points?: PointTable;
}

/**
 * Turns the metrics of one payload into fabric samples. Their source (protocol, topic, node or device) is the
 * batch's, not repeated in every sample: a busy NDATA carries hundreds of metrics. An alias that no birth defined is a contract
 * violation (the node must rebirth); metrics of unsupported types are skipped and counted.
 */
export function metricsToSamples(
  payload: Payload,
  ctx: DecodeContext,
): { samples: busway.v1.ISample[]; skipped: number; points: Point[] } {
  const sourceId = sourceIdOf(ctx.topic);
  const samples: busway.v1.ISample[] = [];
  /** The point of each sample, when the context keeps points. */
  const points: Point[] = [];
  const times = new TimeCache();
  let skipped = 0;
  const payloadTime = toNum(payload.timestamp);
  for (const m of payload.metrics) {
    const def = m.name
      ? (ctx.byName.get(m.name) ?? { name: m.name, datatype: m.datatype ?? 0, unit: engUnitOf(m) })
      : ctx.byAlias.get(toNum(m.alias));
    if (!def) throw new UnknownAlias(toNum(m.alias), sourceId);
    if (isControlMetric(def.name)) continue;
    const unit = engUnitOf(m) || def.unit;
    const flags = flagsOf(m);
    const datatype = m.datatype || def.datatype;
    // scalars (nearly every metric) skip leavesOf's array and leaf objects: this loop runs per metric
    const leaves =
      datatype === SpType.DataSet || datatype === SpType.Template
        ? leavesOf(def.name, m, datatype)
        : [{ name: def.name, m, datatype }];
    for (const leaf of leaves) {
      const timeMs = toNum(leaf.m.timestamp) || toNum(m.timestamp) || payloadTime;
      const point = ctx.points?.get(leaf.name);
      const sample: busway.v1.ISample = {
        pointId: point?.id ?? pointIdOf(sourceId, leaf.name),
        unit,
        eventTimeNs: timeMs ? times.ns(timeMs) : undefined,
        clockSource: timeMs
          ? busway.v1.ClockSource.CLOCK_SOURCE_DEVICE
          : busway.v1.ClockSource.CLOCK_SOURCE_INGEST,
        ingestTimeNs: ctx.ingestTimeNs,
        quality: busway.v1.Quality.QUALITY_GOOD,
        sequence: times.sequence(timeMs),
        flags,
      };
      if (leaf.m.isNull) {
        // a null is news (the device has no valid reading): delivered without a value, marked bad
        sample.quality = busway.v1.Quality.QUALITY_BAD;
        sample.flags = [...flags, 'null'];
        // identified by its time in ns (a value by its ms): a birth's "no value yet" never hides, as a
        // duplicate, the first value read in the same millisecond
        sample.sequence = times.ns(timeMs);
      } else if (!setValue(sample, leaf.m, leaf.datatype)) {
        skipped++;
        continue;
      }
      samples.push(sample);
      if (point) points.push(point);
    }
  }
  return { samples, skipped, points };
}

const NO_FLAGS: readonly string[] = Object.freeze([]);

function flagsOf(m: Metric): string[] {
  if (!m.isHistorical && !m.isTransient) return NO_FLAGS as string[]; // shared: never mutated, only replaced
  return [...(m.isHistorical ? ['historical'] : []), ...(m.isTransient ? ['transient'] : [])];
}

/** The metrics of one payload mostly share one timestamp: its Long forms are made once, not per metric. */
class TimeCache {
  private ms = Number.NaN;
  private nsLong?: Long;
  private seqLong?: Long;

  private at(ms: number): void {
    if (ms === this.ms) return;
    this.ms = ms;
    this.nsLong = undefined;
    this.seqLong = undefined;
  }

  ns(ms: number): Long {
    this.at(ms);
    return (this.nsLong ??= timeNsFromMs(ms));
  }

  sequence(ms: number): Long {
    this.at(ms);
    return (this.seqLong ??= Long.fromNumber(ms, true));
  }
}
