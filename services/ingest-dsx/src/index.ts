// DSX Exchange BMS bridge: BMS/v1/{publisher}/{Value|Metadata}/… over MQTT -> raw samples + registry topology.
import type { WorkerModule } from '@busway/runtime';
import { IngestDsxConfigSchema } from './config.js';
import { startIngestDsx } from './bridge.js';

export { IngestDsxConfigSchema } from './config.js';
export type { IngestDsxConfig } from './config.js';
export { parseBmsTopic, pointKeyOf } from './topic.js';
export type { BmsTopic } from './topic.js';
export { MetadataSchema, ValueSchema, metricOf } from './metadata.js';
export type { Metadata, BmsValue } from './metadata.js';
export { contributionOf } from './contribution.js';
export type { TagLayout } from './contribution.js';
export { sampleOf } from './sample.js';
export { readCapture, replay, parseOffsetMs, EXEMPLAR_CAPTURE } from './replay.js';
export type { Recorded } from './replay.js';
export { DsxBridge, startIngestDsx } from './bridge.js';

export const ingestDsxModule: WorkerModule<typeof IngestDsxConfigSchema> = {
  name: 'ingest-dsx',
  stage: 'ingest',
  description: 'DSX Exchange BMS contract: metadata-applied values -> raw samples; topology -> registry',
  configSchema: IngestDsxConfigSchema,
  consumers: () => [],
  start: startIngestDsx,
};
