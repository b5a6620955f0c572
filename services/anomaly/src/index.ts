// Streaming anomaly scoring: a robust online baseline per series, scores in [0, 1] with a label and a reason.
import { Streams } from '@busway/proto';
import { consumerSpecOf, type WorkerModule } from '@busway/runtime';
import { AnomalyConfigSchema } from './config.js';
import { startAnomaly } from './anomaly.js';

export { AnomalyConfigSchema } from './config.js';
export type { AnomalyConfig, DetectorOptions } from './config.js';
export { Detector } from './detector.js';
export type { Score } from './detector.js';
export { startAnomaly } from './anomaly.js';

export const anomalyModule: WorkerModule<typeof AnomalyConfigSchema> = {
  name: 'anomaly',
  stage: 'anomaly',
  description: 'online anomaly scores per series (robust EWMA baseline, spikes, level shifts, stuck sensors)',
  configSchema: AnomalyConfigSchema,
  consumers: (c) => [consumerSpecOf(Streams.Ordered.name, c.durable, 'ordered.v1.samples.>', c)],
  start: startAnomaly,
};
