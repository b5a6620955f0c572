import { busway, Long, timeNsFromMs } from '@busway/proto';
import type { DeadLetterReason } from '@busway/runtime';
import { familyOf, type Exposition, type Series } from './exposition.js';
import { helpUnitOf, type FieldMapping } from './fields.js';

/** A GPU the exposition showed, with the points it carries: what the registry needs to place them. */
export interface GpuSeen {
  /** Node as the exporter names it (the `Hostname` label, or the target's `node`). */
  host: string;
  index: number;
  uuid?: string;
  modelName?: string;
  points: { pointId: string; metric: string; unit: string }[];
}

/** Something wrong with one series or line: dead-lettered once (keyed), until it reads well again. */
export interface SeriesFault {
  key: string;
  /** Where: `dcgm:<point id>` or `dcgm:<url>`. */
  origin: string;
  detail: Record<string, unknown>;
  reason: DeadLetterReason;
}

/** What every sample of one scrape shares. */
export interface ScrapeStamp {
  targetId: string;
  url: string;
  node?: string;
  /** When the scrape started (ms): the event time of series without a timestamp, and their sequence. */
  pollMs: number;
  ingestTimeNs: Long;
}

export interface MappedScrape {
  /** Samples by node (one SampleBatch each). */
  byHost: Map<string, busway.v1.ISample[]>;
  faults: SeriesFault[];
  gpus: GpuSeen[];
  /** Fields this bridge has no mapping for, with their series count. */
  unmapped: Map<string, number>;
}

const Q = busway.v1.Quality;

/** Point id of one GPU field: `dcgm:<host>:gpu<index>[-i<MIG instance>]/<field>`. */
export function pointIdOf(host: string, gpu: string, field: string): string {
  return `dcgm:${host}:gpu${gpu}/${field}`;
}

/**
 * Turns a parsed exposition into samples, one per series of a mapped field: the value typed by the field
 * (counters flagged `counter`, and `counter-reset` when one went down), time from the line's timestamp
 * (device clock) or the scrape start (ingest clock), the unit from the HELP text's `(in …)` or the mapping.
 * A series that cannot be a sample (no `gpu` label, a declared type or unit that contradicts the mapping, a
 * negative counter, a point given twice) becomes a fault, with a QUALITY_BAD sample when its point is known.
 * `lastCounters` keeps each counter's last value across scrapes.
 */
export function mapExposition(
  exp: Exposition,
  stamp: ScrapeStamp,
  fields: Record<string, FieldMapping>,
  lastCounters: Map<string, number>,
): MappedScrape {
  const out: MappedScrape = { byHost: new Map(), faults: [], gpus: [], unmapped: new Map() };
  const gpus = new Map<string, GpuSeen>();
  const done = new Set<string>();
  for (const s of exp.series) {
    const mapping = Object.hasOwn(fields, s.name) ? fields[s.name] : undefined;
    if (!mapping) {
      out.unmapped.set(s.name, (out.unmapped.get(s.name) ?? 0) + 1);
      continue;
    }
    const gpu = s.labels.gpu;
    const host = stamp.node ?? (s.labels.Hostname || hostOfInstance(s.labels.instance) || stamp.targetId);
    if (gpu === undefined || !/^\d{1,4}$/.test(gpu)) {
      out.faults.push(
        fault(
          `gpu-label/${s.name}`,
          `dcgm:${stamp.url}`,
          s,
          'contract-violation',
          `series ${s.name} has no valid gpu label (${JSON.stringify(gpu ?? null)})`,
        ),
      );
      continue;
    }
    const mig = s.labels.GPU_I_ID;
    const gpuKey = mig && /^\d{1,4}$/.test(mig) ? `${gpu}-i${mig}` : gpu;
    const pointId = pointIdOf(host, gpuKey, s.name);
    if (done.has(pointId)) {
      out.faults.push(
        fault(
          `duplicate/${pointId}`,
          `dcgm:${pointId}`,
          s,
          'contract-violation',
          `two series for ${pointId} in one exposition (only the first is kept)`,
        ),
      );
      continue;
    }
    done.add(pointId);
    const family = familyOf(exp, s.name);
    const helpUnit = helpUnitOf(family?.help);
    const unit = helpUnit ?? mapping.unit;
    const sample = baseSample(s, stamp, pointId, host, unit);
    push(out.byHost, host, sample);
    const metric = gpuKey === gpu ? mapping.metric : `${mapping.metric}.mig${mig}`;
    const seen = gpus.get(`${host}/${gpu}`) ?? { host, index: Number(gpu), points: [] };
    seen.uuid ??= s.labels.UUID;
    seen.modelName ??= s.labels.modelName;
    seen.points.push({ pointId, metric, unit: unit ?? '' });
    gpus.set(`${host}/${gpu}`, seen);

    const declared = family?.type;
    let problem: { code: string; message: string; flag: string } | undefined;
    if (helpUnit === null)
      problem = {
        code: 'unit-unknown',
        flag: 'unit-unknown',
        message: `the HELP text of ${s.name} declares a unit this bridge cannot read: ${JSON.stringify(family?.help)}`,
      };
    else if ((declared === 'counter' || declared === 'gauge') && declared !== mapping.kind)
      problem = {
        code: 'contract-violation',
        flag: 'type-mismatch',
        message: `${s.name} is declared a ${declared}, but it is a ${mapping.kind}`,
      };
    else if (mapping.kind === 'counter' && s.value < 0)
      problem = {
        code: 'contract-violation',
        flag: 'negative-counter',
        message: `counter ${s.name} is negative (${s.value})`,
      };
    if (problem) {
      sample.quality = Q.QUALITY_BAD;
      sample.flags = [problem.flag];
      out.faults.push(fault(`series/${pointId}`, `dcgm:${pointId}`, s, problem.code, problem.message));
      continue;
    }
    setValue(sample, s.value, mapping, pointId, lastCounters);
  }
  out.gpus = [...gpus.values()];
  return out;
}

function hostOfInstance(instance: string | undefined): string | undefined {
  if (!instance) return undefined;
  return instance.replace(/^\[([^\]]*)\](:\d+)?$/, '$1').replace(/:\d+$/, '') || undefined;
}

function push(map: Map<string, busway.v1.ISample[]>, host: string, s: busway.v1.ISample): void {
  const list = map.get(host);
  if (list) list.push(s);
  else map.set(host, [s]);
}

function fault(key: string, origin: string, s: Series, code: string, message: string): SeriesFault {
  return {
    key,
    origin,
    detail: { series: s.name, labels: s.labels, value: String(s.value), line: s.line },
    reason: { code, message },
  };
}

function baseSample(
  s: Series,
  stamp: ScrapeStamp,
  pointId: string,
  host: string,
  unit: string | null,
): busway.v1.ISample {
  const timed = s.timestampMs !== undefined;
  const ms = s.timestampMs ?? stamp.pollMs;
  return {
    pointId,
    unit: unit ?? '',
    eventTimeNs: timeNsFromMs(Math.max(0, ms)),
    // the exposition's timestamp is the exporter host's clock; without one the scrape time is all there is
    clockSource: timed
      ? busway.v1.ClockSource.CLOCK_SOURCE_DEVICE
      : busway.v1.ClockSource.CLOCK_SOURCE_INGEST,
    ingestTimeNs: stamp.ingestTimeNs,
    quality: Q.QUALITY_GOOD,
    source: { protocol: 'dcgm', address: stamp.url, sourceId: host },
    sequence: Long.fromNumber(Math.max(0, ms), true),
  };
}

function setValue(
  sample: busway.v1.ISample,
  value: number,
  mapping: FieldMapping,
  pointId: string,
  lastCounters: Map<string, number>,
): void {
  if (!Number.isFinite(value)) {
    // the format allows NaN and ±Inf; DCGM means "no value": keep the point visible, without one
    sample.quality = Q.QUALITY_BAD;
    sample.flags = ['not-a-number'];
    return;
  }
  const flags: string[] = [];
  if (mapping.kind === 'counter') {
    flags.push('counter');
    const last = lastCounters.get(pointId);
    if (last !== undefined && value < last) flags.push('counter-reset');
    lastCounters.set(pointId, value);
  }
  if (flags.length > 0) sample.flags = flags;
  if (mapping.value === 'int' && Number.isSafeInteger(value)) sample.intValue = Long.fromNumber(value);
  else sample.doubleValue = value;
}
