// MQTT egress: fabric messages republished to a broker by declarative topic mappings (UNS, DSX Exchange, subject, template).
import type { WorkerModule } from '@busway/runtime';
import { EgressMqttConfigSchema } from './config.js';
import { consumerSpecsOf, startEgressMqtt, WORKER } from './mqtt-egress.js';

export { EgressMqttConfigSchema, MappingSchema } from './config.js';
export type { EgressMqttConfig, MappingConfig } from './config.js';
export { TopicMapper } from './mapping.js';
export type { Publication, Mapped } from './mapping.js';
export { fillTemplate, unsTopic, subjectTopic, dsxTopic, metricLevels } from './topics.js';
export {
  DEFAULT_OBJECT_TYPES,
  DEFAULT_POINT_TYPES,
  DSX_POINT_TYPES,
  pointTypeOf,
  dsxValueOf,
} from './dsx.js';
export type { DsxValue } from './dsx.js';
export { unsValueOf } from './payloads.js';
export type { UnsValue } from './payloads.js';
export { startEgressMqtt, lanesOf, durableOf } from './mqtt-egress.js';

export const egressMqttModule: WorkerModule<typeof EgressMqttConfigSchema> = {
  name: WORKER,
  stage: 'egress',
  description:
    'delivery: MQTT republish by topic mapping (UNS, DSX Exchange BMS, subject, template), QoS 1 acked after the PUBACK',
  configSchema: EgressMqttConfigSchema,
  consumers: consumerSpecsOf,
  start: startEgressMqtt,
};
