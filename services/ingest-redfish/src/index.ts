// Redfish telemetry bridge: MetricReports by SSE, push subscription or polling -> raw.v1.samples.redfish.<endpoint>
import type { WorkerModule } from '@busway/runtime';
import { startIngestRedfish } from './bridge.js';
import { IngestRedfishConfigSchema } from './config.js';

export { IngestRedfishConfigSchema, EndpointSchema, MODES } from './config.js';
export type { IngestRedfishConfig, EndpointConfig, Mode } from './config.js';
export { parseRedfishTime } from './time.js';
export { metricOf, propertyPathOf, readMetricValue, unitFromName } from './metric.js';
export type { MetricReading } from './metric.js';
export { decodeReport } from './report-decoder.js';
export type { Decoded, DecodedReport, DecodeContext, ValueReject } from './report-decoder.js';
export { SequenceTracker } from './sequence.js';
export type { SequenceVerdict } from './sequence.js';
export { chassisReadings } from './chassis.js';
export type { ChassisReading } from './chassis.js';
export { RedfishClient, HttpStatusError } from './client.js';
export { ReportPipeline } from './report-pipeline.js';
export type { Settled, Via } from './report-pipeline.js';
export { EndpointBridge } from './endpoint.js';
export type { ActiveMode } from './endpoint.js';
export { PushListener } from './push-listener.js';
export { RedfishBridge, startIngestRedfish } from './bridge.js';

export const ingestRedfishModule: WorkerModule<typeof IngestRedfishConfigSchema> = {
  name: 'ingest-redfish',
  stage: 'ingest',
  description:
    'Redfish: TelemetryService MetricReports by SSE (Last-Event-ID), push subscription or polling, Chassis Power/Thermal',
  configSchema: IngestRedfishConfigSchema,
  consumers: () => [],
  start: startIngestRedfish,
};
