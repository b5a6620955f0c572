import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  PeriodicExportingMetricReader,
  type CollectionResult,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';

const hrTime = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

/** Prometheus label values as OTel attributes (`le` of a bucket is not one). */
function attributesOf(labels: Record<string, string | number | undefined>): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(labels)) if (k !== 'le' && v !== undefined) out[k] = v;
  return out;
}

const seriesKey = (a: Attributes) => JSON.stringify(Object.entries(a).sort(([x], [y]) => (x < y ? -1 : 1)));

/** One prom-client histogram (cumulative `_bucket` values, `_sum`, `_count`) as OTel explicit-bucket points. */
function histogramOf(
  m: MetricObjectWithValues<MetricValue<string>>,
  start: HrTime,
  end: HrTime,
): MetricData['dataPoints'] {
  const series = new Map<
    string,
    { attributes: Attributes; le: [number, number][]; sum: number; count: number }
  >();
  for (const v of m.values) {
    const attributes = attributesOf(v.labels);
    const key = seriesKey(attributes);
    let s = series.get(key);
    if (!s) series.set(key, (s = { attributes, le: [], sum: 0, count: 0 }));
    const name = (v as { metricName?: string }).metricName ?? '';
    if (name.endsWith('_bucket')) s.le.push([Number(v.labels.le), v.value]);
    else if (name.endsWith('_sum')) s.sum = v.value;
    else if (name.endsWith('_count')) s.count = v.value;
  }
  return [...series.values()].map((s) => {
    const finite = s.le.filter(([le]) => Number.isFinite(le)).sort(([a], [b]) => a - b);
    const counts: number[] = [];
    let below = 0;
    for (const [, cumulative] of finite) {
      counts.push(cumulative - below);
      below = cumulative;
    }
    counts.push(s.count - below); // the +Inf bucket
    return {
      startTime: start,
      endTime: end,
      attributes: s.attributes,
      value: { buckets: { boundaries: finite.map(([le]) => le), counts }, sum: s.sum, count: s.count },
    };
  });
}

/**
 * Reads a worker's prom-client registry as OTel metric data, so the same counters, gauges and histograms that
 * `/metrics` serves can also be pushed over OTLP: counters as cumulative monotonic sums, gauges as gauges,
 * histograms with their Prometheus buckets. Names, labels and values are the Prometheus ones.
 */
export class PromMetricProducer implements MetricProducer {
  private readonly startMs = Date.now();

  constructor(private readonly registry: Registry) {}

  async collect(): Promise<CollectionResult> {
    const start = hrTime(this.startMs);
    const end = hrTime(Date.now());
    const metrics: MetricData[] = [];
    const errors: unknown[] = [];
    let all: MetricObjectWithValues<MetricValue<string>>[] = [];
    try {
      all = (await this.registry.getMetricsAsJSON()) as MetricObjectWithValues<MetricValue<string>>[];
    } catch (err) {
      errors.push(err);
    }
    for (const m of all) {
      const type = m.type as unknown as string; // prom-client's typings say an enum; the JSON holds its name
      const descriptor = { name: m.name, description: m.help, unit: '', valueType: ValueType.DOUBLE };
      const points = () =>
        m.values.map((v) => ({
          startTime: start,
          endTime: end,
          attributes: attributesOf(v.labels),
          value: v.value,
        }));
      if (type === 'counter')
        metrics.push({
          descriptor,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.SUM,
          isMonotonic: true,
          dataPoints: points(),
        });
      else if (type === 'gauge')
        metrics.push({
          descriptor,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.GAUGE,
          dataPoints: points(),
        });
      else if (type === 'histogram')
        metrics.push({
          descriptor,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.HISTOGRAM,
          dataPoints: histogramOf(m, start, end) as never,
        });
      // summaries: prom-client's default metrics have none, and OTLP's summary type is legacy
    }
    return {
      // the reader's SDK resource (service.name) replaces this one
      resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: { name: 'busway' }, metrics }] },
      errors,
    };
  }
}

/**
 * Pushes the registry over OTLP/HTTP protobuf to `url` every `OTEL_METRIC_EXPORT_INTERVAL` ms (the SDK's
 * variable; default 60000), beside the Prometheus endpoint that serves the same values.
 */
export function otlpMetricReader(url: string, registry: Registry): PeriodicExportingMetricReader {
  const intervalMs = Number(process.env.OTEL_METRIC_EXPORT_INTERVAL) || 60_000;
  return new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url }),
    exportIntervalMillis: intervalMs,
    exportTimeoutMillis: Math.min(30_000, intervalMs),
    metricProducers: [new PromMetricProducer(registry)],
  });
}
