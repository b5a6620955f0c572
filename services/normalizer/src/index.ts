// The normalizer: raw samples -> UNS path, taxonomy metric, canonical UCUM unit, UTC time with quality.
import { Streams } from '@busway/proto';
import { consumerSpecOf, type WorkerModule } from '@busway/runtime';
import { NormalizerConfigSchema } from './config.js';
import { startNormalizer } from './normalizer.js';

export { NormalizerConfigSchema } from './config.js';
export type { NormalizerConfig } from './config.js';
export { toUcum, toCanonical, conversion } from './units.js';
export type { Conversion } from './units.js';
export { applyTimeRules } from './time-rules.js';
export type { TimeRules } from './time-rules.js';
export { normalizeSample, enrichJob, SampleNormalizer } from './normalize.js';
export type { Normalized } from './normalize.js';
export { normalizeBatch, normalizeBatchObjects } from './normalize-batch.js';
export { FastBatchNormalizer } from './fast-batch.js';
export type { NormalizedBatch } from './normalize-batch.js';
export { Deadband, DeadbandBatch } from './deadband.js';
export { startNormalizer } from './normalizer.js';

export const normalizerModule: WorkerModule<typeof NormalizerConfigSchema> = {
  name: 'normalizer',
  stage: 'normalize',
  description: 'raw -> normalized: registry path and taxonomy, UCUM canonical units, UTC time, quality',
  configSchema: NormalizerConfigSchema,
  consumers: (c) => [consumerSpecOf(Streams.Raw.name, c.durable, 'raw.v1.>', c)],
  start: startNormalizer,
};
