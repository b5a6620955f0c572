// Generic MQTT JSON bridge: declarative topic → asset/metric/unit/value/time rules, LoRaWAN and BLE presets.
import type { WorkerModule } from '@busway/runtime';
import { IngestMqttJsonConfigSchema } from './config.js';
import { startIngestMqttJson } from './bridge.js';

export { IngestMqttJsonConfigSchema } from './config.js';
export type { IngestMqttJsonConfig } from './config.js';
export { MappingRuleSchema, SampleRuleSchema } from './rules.js';
export type { MappingRule, SampleRule } from './rules.js';
export { RuleMapper, nsFromRfc3339 } from './mapper.js';
export type { Mapped } from './mapper.js';
export { CHIRPSTACK_V4, bleGateway } from './presets.js';
export { valueAt, fill, compileTopic } from './path.js';
export { MqttJsonBridge, startIngestMqttJson, mappersOf } from './bridge.js';

export const ingestMqttJsonModule: WorkerModule<typeof IngestMqttJsonConfigSchema> = {
  name: 'ingest-mqtt-json',
  stage: 'ingest',
  description: 'generic MQTT JSON by mapping rules, with ChirpStack v4 (LoRaWAN) and BLE gateway presets',
  configSchema: IngestMqttJsonConfigSchema,
  consumers: () => [],
  start: startIngestMqttJson,
};
