// The correlator: event-time ordering (watermarks, lateness, dedup) and cross-domain correlation into incidents.
import { Streams } from '@busway/proto';
import { consumerSpecOf, type WorkerModule } from '@busway/runtime';
import { CorrelatorConfigSchema } from './config.js';
import { startCorrelator } from './correlator.js';

export { CorrelatorConfigSchema } from './config.js';
export type { CorrelatorConfig } from './config.js';
export { OrderBuffer } from './order-buffer.js';
export type { OrderBufferOptions, PushResult } from './order-buffer.js';
export { CorrelationEngine } from './correlation.js';
export type { CorrelationOptions } from './correlation.js';
export { startCorrelator } from './correlator.js';

export const correlatorModule: WorkerModule<typeof CorrelatorConfigSchema> = {
  name: 'correlator',
  stage: 'correlate',
  description: 'event-time ordering with watermarks and dedup; job -> power -> thermal incidents with lags',
  configSchema: CorrelatorConfigSchema,
  consumers: (c) => [consumerSpecOf(Streams.Norm.name, c.durable, 'norm.v1.>', c)],
  start: startCorrelator,
};
