// SNMP bridge: v2c and v3 (authPriv) polling of OID sets, and a trap receiver -> raw.v1.samples.snmp.<target>
import type { WorkerModule } from '@busway/runtime';
import { IngestSnmpConfigSchema } from './config.js';
import { startIngestSnmp } from './worker.js';

export { IngestSnmpConfigSchema, TargetSchema, PointSchema, UserSchema } from './config.js';
export type { IngestSnmpConfig, TargetConfig, PointConfig, UserConfig } from './config.js';
export {
  SmiType,
  POINT_TYPES,
  readVarbind,
  scaled,
  textOf,
  uint64Of,
  typeNameOf,
  describeVarbind,
} from './varbind.js';
export type { RawVarbind, PointValue, PointType, MissingFlag, VarbindReading, Decoding } from './varbind.js';
export { goodSample, badSample, trapSample, pointIdOf } from './sample.js';
export type { BadFlag, SampleStamp, SamplePoint } from './sample.js';
export {
  decodeTrap,
  NotificationPdu,
  SYS_UPTIME_OID,
  SNMP_TRAP_OID,
  SNMP_TRAP_ADDRESS_OID,
} from './trap-decode.js';
export type { Trap, NotificationLike } from './trap-decode.js';
export { trapBatch, trapOutgoing, targetOfAgent, undecodableOutgoing } from './trap-message.js';
export type { TrapOutgoing, Arrival } from './trap-message.js';
export { backoffMs, nextPollAt } from '@busway/runtime';
export { chunksOf, TargetPoller } from './target-poller.js';
export { SnmpPoller } from './poller.js';
export { TrapReceiver } from './trap-receiver.js';
export { startIngestSnmp } from './worker.js';

export const ingestSnmpModule: WorkerModule<typeof IngestSnmpConfigSchema> = {
  name: 'ingest-snmp',
  stage: 'ingest',
  description:
    'SNMP v2c/v3 poller of OID sets (MIB scaling applied) and trap receiver -> raw samples per target',
  configSchema: IngestSnmpConfigSchema,
  consumers: () => [],
  start: startIngestSnmp,
};
