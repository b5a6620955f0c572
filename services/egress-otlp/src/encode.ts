import { ValueType, type HrTime } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { bigIntFromTimeNs, busway, canonicalUnitOf, kindOf, Metrics } from '@busway/proto';
import { resourceAttributesOf, resourceKeyOf, type AssetLookup } from './resource.js';

/** Quantity kinds that count up from a reset (energy meters, error counters): cumulative monotonic sums. */
const COUNTER_KINDS = new Set(['energy', 'count']);
const SCOPE = { name: '@busway/egress-otlp', version: '0.1.0' };
const NS_PER_S = 1_000_000_000n;

/** Why a sample was not exported. */
export type SkipReason = 'not-numeric' | 'bad-quality' | 'no-path' | 'series-limit';

export interface EncoderOptions {
  serviceName: string;
  metricPrefix: string;
  maxSeries: number;
  lookup?: AssetLookup;
}

export interface Encoded {
  resourceMetrics: ResourceMetrics[];
  points: number;
  skipped: Partial<Record<SkipReason, number>>;
}

interface MetricGroup {
  sum: boolean;
  name: string;
  unit: string;
  description: string;
  points: DataPoint<number>[];
}

const hrTime = (ns: bigint): HrTime => [Number(ns / NS_PER_S), Number(ns % NS_PER_S)];

function numberOf(s: busway.v1.ISample): number | undefined {
  if (s.doubleValue != null) return Number.isFinite(s.doubleValue) ? s.doubleValue : undefined;
  if (s.intValue != null) return Number(s.intValue.toString());
  if (s.boolValue != null) return s.boolValue ? 1 : 0;
  return undefined;
}

/**
 * Normalized samples as OTLP metrics in the SDK's data model (so the official serializer encodes them):
 * one ResourceMetrics per asset, a gauge per measurement, a cumulative monotonic sum per counter (energy,
 * counts), each sample one data point at its own event time. Counters start where the series was first seen
 * (or last went down: a reset). At most `maxSeries` series are ever exported.
 */
export class MetricsEncoder {
  /** Series key (asset + metric) → where its cumulative sum started and its last value. */
  private readonly series = new Map<string, { startNs: bigint; last: number }>();
  private readonly resources = new Map<string, Resource>();

  constructor(private readonly opts: EncoderOptions) {}

  /** Forget cached resource attributes (the registry changed). */
  refreshResources(): void {
    this.resources.clear();
  }

  get seriesCount(): number {
    return this.series.size;
  }

  encode(samples: busway.v1.ISample[]): Encoded {
    const byResource = new Map<string, { path: busway.v1.IUnsPath; metrics: Map<string, MetricGroup> }>();
    const skipped: Partial<Record<SkipReason, number>> = {};
    const skip = (r: SkipReason) => (skipped[r] = (skipped[r] ?? 0) + 1);
    let points = 0;
    for (const s of samples) {
      if (!s.path || !s.metric) {
        skip('no-path');
        continue;
      }
      const q = s.quality ?? 0;
      if (q === busway.v1.Quality.QUALITY_BAD || q === busway.v1.Quality.QUALITY_STALE) {
        skip('bad-quality');
        continue;
      }
      const value = numberOf(s);
      if (value === undefined) {
        skip('not-numeric');
        continue;
      }
      const rkey = resourceKeyOf(s.path);
      const skey = `${rkey}|${s.metric}`;
      const sum = COUNTER_KINDS.has(kindOf(s.metric) ?? '');
      const t = bigIntFromTimeNs(s.eventTimeNs);
      let known = this.series.get(skey);
      if (!known) {
        if (this.series.size >= this.opts.maxSeries) {
          skip('series-limit');
          continue;
        }
        known = { startNs: t, last: value };
        this.series.set(skey, known);
      } else if (sum && value < known.last) known.startNs = t; // the counter was reset
      known.last = value;

      let res = byResource.get(rkey);
      if (!res) byResource.set(rkey, (res = { path: s.path, metrics: new Map() }));
      let group = res.metrics.get(s.metric);
      if (!group) {
        group = {
          sum,
          name: `${this.opts.metricPrefix}${s.metric}`,
          unit: s.unit || canonicalUnitOf(s.metric) || '',
          description: Metrics[s.metric]?.description ?? '',
          points: [],
        };
        res.metrics.set(s.metric, group);
      }
      const end = hrTime(t);
      group.points.push({
        startTime: sum ? hrTime(known.startNs) : end,
        endTime: end,
        attributes: {},
        value,
      });
      points++;
    }
    const resourceMetrics = [...byResource].map(([rkey, { path, metrics }]) => ({
      resource: this.resourceOf(rkey, path),
      scopeMetrics: [{ scope: SCOPE, metrics: [...metrics.values()].map(metricDataOf) }],
    }));
    return { resourceMetrics, points, skipped };
  }

  private resourceOf(key: string, path: busway.v1.IUnsPath): Resource {
    let r = this.resources.get(key);
    if (!r) {
      r = resourceFromAttributes(resourceAttributesOf(this.opts.serviceName, path, this.opts.lookup));
      this.resources.set(key, r);
    }
    return r;
  }
}

function metricDataOf(g: MetricGroup): MetricData {
  const descriptor = { name: g.name, unit: g.unit, description: g.description, valueType: ValueType.DOUBLE };
  return g.sum
    ? {
        descriptor,
        dataPointType: DataPointType.SUM,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        isMonotonic: true,
        dataPoints: g.points,
      }
    : {
        descriptor,
        dataPointType: DataPointType.GAUGE,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPoints: g.points,
      };
}
