// OTLP egress: normalized samples as OpenTelemetry metrics (gauges, cumulative sums) with resource attributes from the registry.
import type { WorkerModule } from '@busway/runtime';
import { EgressOtlpConfigSchema } from './config.js';
import { consumerSpecsOf, startEgressOtlp, WORKER } from './otlp-egress.js';

export { EgressOtlpConfigSchema } from './config.js';
export type { EgressOtlpConfig } from './config.js';
export { MetricsEncoder } from './encode.js';
export type { Encoded, EncoderOptions, SkipReason } from './encode.js';
export { resourceAttributesOf, resourceKeyOf } from './resource.js';
export type { AssetLookup } from './resource.js';
export { serializeMetrics, partialSuccessOf } from './serialize.js';
export type { OtlpProtocol } from './serialize.js';
export { startEgressOtlp, durableOf } from './otlp-egress.js';

export const egressOtlpModule: WorkerModule<typeof EgressOtlpConfigSchema> = {
  name: WORKER,
  stage: 'egress',
  description:
    'delivery: normalized samples as OpenTelemetry metrics over OTLP/HTTP, resource attributes from the registry',
  configSchema: EgressOtlpConfigSchema,
  consumers: consumerSpecsOf,
  start: startEgressOtlp,
};
