// Modbus TCP poller: register maps of devices -> raw samples on raw.v1.samples.modbus.<device>
import type { WorkerModule } from '@busway/runtime';
import { IngestModbusConfigSchema } from './config.js';
import { startIngestModbus } from './poller.js';

export { IngestModbusConfigSchema, DeviceSchema, PointSchema } from './config.js';
export type { IngestModbusConfig, DeviceConfig, PointConfig } from './config.js';
export { TABLES, DATA_TYPES, REGISTER_TYPES, widthOf, isBitTable } from './data-types.js';
export type { Table, DataType, RegisterType, Endianness } from './data-types.js';
export { planBlocks, spanOf } from './register-map.js';
export type { Block, PlanLimits } from './register-map.js';
export { bytesOf, decodeRegisters, decodePoint } from './decode.js';
export type { BlockData, PointValue } from './decode.js';
export { goodSample, badSample, pointIdOf, sourceAddressOf } from './sample.js';
export type { BadReadFlag, CycleStamp } from './sample.js';
export { backoffMs, nextPollAt } from '@busway/runtime';
export { ModbusConnection, ModbusException } from './modbus-connection.js';
export { DevicePoller } from './device-poller.js';
export { ModbusPoller, startIngestModbus } from './poller.js';

export const ingestModbusModule: WorkerModule<typeof IngestModbusConfigSchema> = {
  name: 'ingest-modbus',
  stage: 'ingest',
  description: 'Modbus TCP poller: holding/input registers, coils, discrete inputs -> raw samples per device',
  configSchema: IngestModbusConfigSchema,
  consumers: () => [],
  start: startIngestModbus,
};
