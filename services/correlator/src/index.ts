// The correlator: event-time ordering (watermarks, lateness, dedup) and cross-domain correlation into incidents.
import type { WorkerModule } from '@busway/runtime';
import { CorrelatorConfigSchema } from './config.js';
import { allConsumers } from './consumers.js';
import { startCorrelator } from './correlator.js';

export { CorrelatorConfigSchema } from './config.js';
export type { CorrelatorConfig } from './config.js';
export { OrderBuffer } from './order-buffer.js';
export type {
  OrderBufferOptions,
  OrderBufferState,
  PushResult,
  Orderable,
  EmittedSlot,
} from './order-buffer.js';
export { CorrelationEngine } from './engine.js';
export type { EngineScope } from './engine.js';
export { PartitionCore } from './partition-core.js';
export { RawBatchWriter, RawSample } from './raw-sample.js';
export { NormBatchScanner } from './norm-scanner.js';
export type { Checkpoint, Outputs, OutBatch, InputMessage, PartitionCoreOptions } from './partition-core.js';
export { Topology } from './topology.js';
export { DEFAULT_RULES, RuleSetSchema, parseRules, loadRules } from './rules.js';
export type { RuleSet, Rule } from './rules.js';
export {
  natsPartitionMappings,
  natsPartitionConfig,
  partitionOf,
  ownedPartitions,
  partitionFilter,
  PartitionKeys,
} from './partitioning.js';
export type { PartitionKey } from './partitioning.js';
export { partitionConsumers, allConsumers } from './consumers.js';
export { checkpointKey } from './checkpoint.js';
export { startCorrelator } from './correlator.js';

export const correlatorModule: WorkerModule<typeof CorrelatorConfigSchema> = {
  name: 'correlator',
  stage: 'correlate',
  description:
    'event-time ordering (watermarks, lateness, dedup); topology rules -> incidents with lags; partitioned, checkpointed',
  configSchema: CorrelatorConfigSchema,
  consumers: allConsumers,
  start: startCorrelator,
};
