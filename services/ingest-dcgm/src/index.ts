// DCGM exporter bridge: Prometheus text expositions of GPU telemetry -> raw samples per node, GPUs into the registry
import type { WorkerModule } from '@busway/runtime';
import { IngestDcgmConfigSchema } from './config.js';
import { startIngestDcgm } from './poller.js';

export { IngestDcgmConfigSchema, TargetSchema } from './config.js';
export type { IngestDcgmConfig, TargetConfig } from './config.js';
export { parseExposition, parseValue, familyOf } from './exposition.js';
export type { Exposition, Series, Family, FamilyType, ParseProblem } from './exposition.js';
export { DCGM_FIELD_MAP, FieldMappingSchema, helpUnitOf } from './fields.js';
export type { FieldMapping } from './fields.js';
export { mapExposition, pointIdOf } from './samples.js';
export type { GpuSeen, MappedScrape, ScrapeStamp, SeriesFault } from './samples.js';
export { gpuContribution, gpuAssetOf, nodeAssetOf } from './gpu-registry.js';
export type { GpuContribution } from './gpu-registry.js';
export { GpuRegistrar } from './registrar.js';
export { scrape, HttpStatusError } from './scrape.js';
export type { ScrapeResponse } from './scrape.js';
export { TargetPoller } from './target-poller.js';
export { startIngestDcgm } from './poller.js';

export const ingestDcgmModule: WorkerModule<typeof IngestDcgmConfigSchema> = {
  name: 'ingest-dcgm',
  stage: 'ingest',
  description:
    'DCGM exporter scraper: GPU power, temperature, utilization, clocks, energy, XID -> raw samples per node',
  configSchema: IngestDcgmConfigSchema,
  consumers: () => [],
  start: startIngestDcgm,
};
