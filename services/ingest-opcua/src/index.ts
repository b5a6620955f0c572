// OPC UA client bridge: subscriptions with monitored items -> raw samples on raw.v1.samples.opcua.<endpoint>
import type { WorkerModule } from '@busway/runtime';
import { IngestOpcuaConfigSchema } from './config.js';
import { startIngestOpcua } from './bridge.js';

export {
  IngestOpcuaConfigSchema,
  EndpointSchema,
  ItemSchema,
  DeadbandSchema,
  SECURITY_MODES,
  SECURITY_POLICIES,
  pointNameOf,
  canonicalNodeId,
} from './config.js';
export type { IngestOpcuaConfig, EndpointConfig, ItemConfig, DeadbandConfig } from './config.js';
export { convertDataValue, qualityOf, sourceTimeNs } from './convert.js';
export type { Converted, PointRef, RejectedValue } from './convert.js';
export { uneceCodeOf, unitOfEuInformation } from './units.js';
export { batchIdOf, pendingBatchOf, pendingBatchesOf, MAX_SAMPLES_PER_BATCH } from './batch.js';
export type { PendingBatch } from './batch.js';
export { PendingQueue } from './pending-queue.js';
export { pointsOf, subscriptionOptionsOf, filterOf } from './subscribe.js';
export type { Point } from './subscribe.js';
export { EndpointSession, backoffMs } from './session.js';
export type { Reconnect, MonitoredValue, SessionHooks } from './session.js';
export { EndpointBridge } from './endpoint.js';
export { OpcuaBridge, startIngestOpcua } from './bridge.js';

export const ingestOpcuaModule: WorkerModule<typeof IngestOpcuaConfigSchema> = {
  name: 'ingest-opcua',
  stage: 'ingest',
  description:
    'OPC UA client: subscriptions with monitored items (deadband, security, reconnect) -> raw samples',
  configSchema: IngestOpcuaConfigSchema,
  consumers: () => [],
  start: startIngestOpcua,
};
