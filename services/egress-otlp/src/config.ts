import { z } from 'zod';
import { ConsumerConfigSchema, RuntimeConfigSchema, streamOfSubject, fromJson } from '@busway/runtime';

/** Sample subjects: within UNS (one sample a message) or ORDERED's samples (batches). */
const SampleSubject = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\.([A-Za-z0-9_-]+|\*))*(\.>)?$/, 'a NATS subject filter (tokens, * and a final >)')
  .refine((s) => streamOfSubject(s) === 'UNS' || /^ordered\.v1\.samples(\.|$)/.test(s), {
    message: 'must lie within uns.v1.… or ordered.v1.samples.…',
  });

export const EgressOtlpConfigSchema = RuntimeConfigSchema.extend(ConsumerConfigSchema.shape).extend({
  /** OTLP/HTTP metrics endpoint, the full URL [BUSWAY_OTLP_METRICS_URL]. @default http://127.0.0.1:4318/v1/metrics */
  otlpMetricsUrl: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:4318/v1/metrics'),
  /** Wire format: http/protobuf or http/json [BUSWAY_OTLP_PROTOCOL]. @default http/protobuf */
  otlpProtocol: z.enum(['http/protobuf', 'http/json']).default('http/protobuf'),
  /** Extra request headers, e.g. an API key [BUSWAY_OTLP_HEADERS, JSON]. @default {} */
  otlpHeaders: z.preprocess(fromJson('object of headers'), z.record(z.string(), z.string())).default({}),
  /** Time one export may take before it is retried [BUSWAY_EXPORT_TIMEOUT_MS]. @default 10000 */
  exportTimeoutMs: z.coerce.number().int().min(100).default(10_000),
  /** Longest Retry-After honoured on 429/502/503/504 [BUSWAY_MAX_RETRY_AFTER_MS]. @default 60000 */
  maxRetryAfterMs: z.coerce.number().int().min(0).default(60_000),
  /** Samples exported: subject filters, each with its own durable consumer [BUSWAY_SUBJECTS, comma separated]. @default uns.v1.> */
  subjects: z
    .preprocess(
      (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v),
      z.array(SampleSubject).min(1),
    )
    .default(['uns.v1.>']),
  /** `service.name` of every resource [BUSWAY_SERVICE_NAME]. @default busway */
  serviceName: z.string().min(1).default('busway'),
  /** Prefix of every metric name: busway.temperature.coolant.supply [BUSWAY_METRIC_PREFIX]. @default busway. */
  metricPrefix: z.string().default('busway.'),
  /** Series (asset × metric) exported at most; samples of further series are dropped and counted [BUSWAY_MAX_SERIES]. @default 10000 */
  maxSeries: z.coerce.number().int().min(1).default(10_000),
  /** Redis holding the registry, for asset names and hosts in resource attributes [REDIS_URL]. @default redis://127.0.0.1:6379 */
  redisUrl: z.string().min(1).default('redis://127.0.0.1:6379'),
  /** Read the registry for resource attributes; false uses the UNS path alone [BUSWAY_REGISTRY]. @default true */
  registry: z.union([z.boolean(), z.stringbool()]).default(true),
});
export type EgressOtlpConfig = z.output<typeof EgressOtlpConfigSchema>;
