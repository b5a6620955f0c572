// BACnet/IP bridge: ReadPropertyMultiple polling and SubscribeCOV -> raw samples on raw.v1.samples.bacnet.<device>
import type { WorkerModule } from '@busway/runtime';
import { startIngestBacnet } from './bridge.js';
import { IngestBacnetConfigSchema } from './config.js';

export { IngestBacnetConfigSchema, DeviceSchema, ObjectSchema, BACNET_PORT } from './config.js';
export type { IngestBacnetConfig, DeviceConfig, ObjectConfig } from './config.js';
export { OBJECT_TYPES, objectTypeOf, hasUnits, isBinary, kebabOf } from './object-types.js';
export type { ObjectTypeName } from './object-types.js';
export { unitNameOf } from './units.js';
export { sampleValueOf, statusOf, unitOf, propertyReadOf, tagNameOf } from './convert.js';
export type { AppValue, PropertyRead, SampleValue, Status } from './convert.js';
export { errorNameOf, failureOf, rejectsService } from './bacnet-errors.js';
export type { RequestFailure } from './bacnet-errors.js';
export { goodSample, badSample, pointIdOf, sourceAddressOf, objectKeyOf } from './sample.js';
export type { Stamp, BadReadFlag } from './sample.js';
export { DeviceSampler } from './sampler.js';
export type { ObjectReads } from './sampler.js';
export { UdpTransport, parseAddress } from './transport.js';
export { BacnetConnection } from './connection.js';
export type {
  CovNotification,
  ObjectId,
  PropertyValues,
  ReadAccessResult,
  ReadRequest,
} from './connection.js';
export { BacnetBridge, startIngestBacnet } from './bridge.js';

export const ingestBacnetModule: WorkerModule<typeof IngestBacnetConfigSchema> = {
  name: 'ingest-bacnet',
  stage: 'ingest',
  description:
    'BACnet/IP: ReadPropertyMultiple polling and SubscribeCOV; units by ASHRAE name, mapped to UCUM',
  configSchema: IngestBacnetConfigSchema,
  consumers: () => [],
  start: startIngestBacnet,
};
