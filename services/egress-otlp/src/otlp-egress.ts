import { createHash } from 'node:crypto';
import type { JsMsg } from '@nats-io/jetstream';
import { Counter, Gauge } from 'prom-client';
import { busway, EventTypes } from '@busway/proto';
import { RegistryClient } from '@busway/registry';
import {
  ACK,
  consumerSpecOf,
  LogSummary,
  readEnvelope,
  startConsumeLoop,
  streamOfSubject,
  type ConsumeLoop,
  type ConsumerSpec,
  type Outcome,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import type { EgressOtlpConfig } from './config.js';
import { MetricsEncoder } from './encode.js';
import { partialSuccessOf, serializeMetrics } from './serialize.js';

export const WORKER = 'egress-otlp';

/** Samples streams are analytics: ORDERED for ordered.v1.samples.…, UNS otherwise. */
const streamOf = (subject: string) => streamOfSubject(subject) ?? 'ORDERED';

export function durableOf(subject: string): string {
  return `egress-otlp-${createHash('sha256').update(subject).digest('hex').slice(0, 10)}`;
}

export function consumerSpecsOf(config: EgressOtlpConfig): ConsumerSpec[] {
  return config.subjects.map((s) => consumerSpecOf(streamOf(s), durableOf(s), s, config));
}

/** OTLP/HTTP statuses worth another try (the OTLP specification's list); any other failure is final. */
const RETRYABLE = new Set([429, 502, 503, 504]);

function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * Exports normalized samples to an OTLP/HTTP metrics endpoint: each fetched batch is one export request, and
 * its messages are acked once the endpoint answered 2xx. 429/502/503/504 and network failures redeliver the
 * batch (after Retry-After when given); any other refusal dead-letters it with the status.
 */
export async function startEgressOtlp(rt: WorkerRuntime, config: EgressOtlpConfig): Promise<RunningWorker> {
  const exported = new Counter({
    name: 'busway_otlp_points_total',
    help: 'Samples exported as OTLP data points (exported), or not, by reason (not-numeric, bad-quality, series-limit, rejected)',
    labelNames: ['outcome'],
    registers: [rt.metrics.registry],
  });
  const seriesGauge = new Gauge({
    name: 'busway_otlp_series',
    help: 'Series (asset and metric) exported since start; bounded by maxSeries',
    registers: [rt.metrics.registry],
  });
  const log = rt.log.child({ endpoint: config.otlpMetricsUrl });
  const dropped = new LogSummary(log, 'samples not exported:');
  let registry: RegistryClient | undefined;
  if (config.registry) {
    try {
      registry = await RegistryClient.connect(config.redisUrl, config.site);
    } catch (err) {
      log.warn(
        { err: (err as Error).message },
        'registry unreachable: resource attributes from the UNS path alone',
      );
    }
  }
  const encoder = new MetricsEncoder({
    serviceName: config.serviceName,
    metricPrefix: config.metricPrefix,
    maxSeries: config.maxSeries,
    lookup: registry ? (id) => registry?.registry.asset(id) : undefined,
  });
  registry?.onChange(() => encoder.refreshResources());
  if (registry) rt.metrics.reportRegistryVersion(() => registry.registry.version);

  const exportBatch = async (batch: JsMsg[]): Promise<Outcome[]> => {
    const outcomes: Outcome[] = [];
    const samples: busway.v1.ISample[] = [];
    for (const msg of batch) {
      const type = readEnvelope(msg.headers).type;
      if (type !== EventTypes.SampleBatch) {
        outcomes.push({
          kind: 'poison',
          code: 'contract-violation',
          message: `expected ${EventTypes.SampleBatch}, got '${type}'`,
        });
        continue;
      }
      try {
        samples.push(...busway.v1.SampleBatch.decode(msg.data).samples);
        outcomes.push(ACK);
      } catch (err) {
        outcomes.push({ kind: 'poison', code: 'decode-error', message: (err as Error).message });
      }
    }
    const encoded = encoder.encode(samples);
    for (const [reason, n] of Object.entries(encoded.skipped)) {
      exported.inc({ outcome: reason }, n);
      for (let i = 0; i < Math.min(n, 100); i++) dropped.add(reason);
    }
    seriesGauge.set(encoder.seriesCount);
    if (encoded.points === 0) return outcomes;
    const { body, contentType } = serializeMetrics(encoded.resourceMetrics, config.otlpProtocol);
    const failed = (o: Outcome) => outcomes.map((prev) => (prev.kind === 'ack' ? o : prev));
    let res: Response;
    try {
      res = await fetch(config.otlpMetricsUrl, {
        method: 'POST',
        body,
        headers: { ...config.otlpHeaders, 'content-type': contentType },
        signal: AbortSignal.timeout(config.exportTimeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return failed({
        kind: 'retry',
        code: 'otlp-unreachable',
        message: `${e.message}${e.cause?.code ? `: ${e.cause.code}` : ''}`,
      });
    }
    const answer = new Uint8Array(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
    if (res.ok) {
      const rejected = Number(
        partialSuccessOf(answer, config.otlpProtocol).partialSuccess?.rejectedDataPoints ?? 0,
      );
      if (rejected > 0) {
        exported.inc({ outcome: 'rejected' }, rejected);
        log.warn(
          { rejected, reason: partialSuccessOf(answer, config.otlpProtocol).partialSuccess?.errorMessage },
          'endpoint rejected data points',
        );
      }
      exported.inc({ outcome: 'exported' }, encoded.points - rejected);
      return outcomes;
    }
    if (RETRYABLE.has(res.status)) {
      const wait = retryAfterMs(res.headers.get('retry-after'));
      return failed({
        kind: 'retry',
        code: `otlp-${res.status}`,
        message: `HTTP ${res.status}`,
        ...(wait !== undefined ? { delayMs: Math.min(wait, config.maxRetryAfterMs) } : {}),
      });
    }
    return failed({
      kind: 'poison',
      code: `otlp-${res.status}`,
      message: `the endpoint refused the export: HTTP ${res.status}`,
    });
  };

  const loops: ConsumeLoop[] = [];
  for (const subject of config.subjects) {
    loops.push(
      await startConsumeLoop({
        stage: 'egress',
        worker: WORKER,
        js: rt.js,
        termWithReason: rt.features().termWithReason,
        stream: streamOf(subject),
        durable: durableOf(subject),
        config,
        metrics: rt.metrics,
        log,
        handle: exportBatch,
      }),
    );
  }
  log.info({ subjects: config.subjects, protocol: config.otlpProtocol }, 'OTLP metrics egress consuming');
  return {
    async stop() {
      await Promise.all(loops.map((l) => l.stop()));
      dropped.close();
      await registry?.close();
    },
  };
}
