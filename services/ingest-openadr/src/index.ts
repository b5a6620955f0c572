// OpenADR 3.1 VEN: grid signals (capacity limits, prices, alerts, ...) from a VTN -> raw.v1.events.openadr,
// usage reports from the facility's normalized power back to the VTN.
import type { WorkerModule } from '@busway/runtime';
import { IngestOpenadrConfigSchema } from './config.js';
import { startIngestOpenadr } from './worker.js';

export { IngestOpenadrConfigSchema } from './config.js';
export type { IngestOpenadrConfig } from './config.js';
export { decodeEvent, cancellationOf, RejectCode } from './decode.js';
export type {
  DecodedEvent,
  DecodeResult,
  DecodeContext,
  ProgramInfo,
  Reject,
  ActivePeriod,
} from './decode.js';
export { readPayload, PAYLOAD_RULES, PRICE_TYPES } from './payloads.js';
export type { PayloadValues, PayloadPoint } from './payloads.js';
export { ucumOf, KNOWN_UNITS } from './units.js';
export { parseDuration, addDuration, isOpenEnded, parseDateTime, formatDateTime, NOW_START } from './time.js';
export type { IsoDuration } from './time.js';
export { canonicalJson, contentHash, revisionOf } from './revision.js';
export { readReportDescriptors } from './report-descriptor.js';
export type { ReportDescriptor } from './report-descriptor.js';
export { planReports, reportBody, valueOf } from './reports.js';
export type { PlannedReport } from './reports.js';
export { timeWeightedMean, FacilityMeter } from './meter.js';
export type { PowerReading, FacilityPower } from './meter.js';
export { VtnClient, VtnRefused } from './vtn-client.js';
export { SIGNAL_SUBJECT, WORKER } from './publish.js';
export { startIngestOpenadr } from './worker.js';

export const ingestOpenadrModule: WorkerModule<typeof IngestOpenadrConfigSchema> = {
  name: 'ingest-openadr',
  stage: 'ingest',
  description:
    'OpenADR 3.1 VEN: grid signals from a VTN (webhook with polling fallback) -> raw grid events; usage reports back',
  configSchema: IngestOpenadrConfigSchema,
  consumers: () => [],
  start: startIngestOpenadr,
};
