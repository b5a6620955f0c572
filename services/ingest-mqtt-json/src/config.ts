import { z } from 'zod';
import { RuntimeConfigSchema, fromJson } from '@busway/runtime';
import { MappingRuleSchema } from './rules.js';

export const IngestMqttJsonConfigSchema = RuntimeConfigSchema.extend({
  /** MQTT broker to read JSON from [MQTT_URL]. @default mqtt://127.0.0.1:1883 */
  mqttUrl: z.string().min(1).default('mqtt://127.0.0.1:1883'),
  /** Stable MQTT client id: the broker keeps the session across restarts. @default busway-ingest-mqtt-json */
  mqttClientId: z.string().min(1).default('busway-ingest-mqtt-json'),
  /** MQTT 5 receive maximum: messages in flight to the bridge, its memory bound. @default 64 */
  receiveMaximum: z.coerce.number().int().min(1).max(65535).default(64),
  /** Bytes held unacknowledged by JetStream before the bridge stops reading from the broker. @default 8388608 (8 MiB) */
  maxBufferBytes: z.coerce
    .number()
    .int()
    .min(1)
    .default(8 * 2 ** 20),
  /** Mapping rules (see the README); JSON in BUSWAY_RULES. @default [] */
  rules: z.preprocess(fromJson('array of rules'), z.array(MappingRuleSchema)).default([]),
  /** Built-in rules to enable, comma separated: chirpstack-v4, ble-gateway. @default none */
  presets: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(['chirpstack-v4', 'ble-gateway']))),
  /** BLE gateway id → zone it covers, for the ble-gateway preset; JSON in BUSWAY_BLE_ZONES. @default {} */
  bleZones: z.preprocess(fromJson('object of zones'), z.record(z.string(), z.string())).default({}),
});
export type IngestMqttJsonConfig = z.infer<typeof IngestMqttJsonConfigSchema>;
