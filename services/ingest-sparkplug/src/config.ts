import { z } from 'zod';
import { ConsumerConfigSchema, RuntimeConfigSchema } from '@busway/runtime';

export const IngestSparkplugConfigSchema = RuntimeConfigSchema.extend({
  /** MQTT broker to read Sparkplug B from [MQTT_URL]. @default mqtt://127.0.0.1:1883 */
  mqttUrl: z.string().min(1).default('mqtt://127.0.0.1:1883'),
  /** MQTT client id; stable so the broker keeps the session (and unacked messages) across restarts. @default busway-ingest-sparkplug */
  mqttClientId: z.string().min(1).default('busway-ingest-sparkplug'),
  /** Sparkplug groups to subscribe to, comma separated; `+` is all. @default + */
  groups: z.string().default('+'),
  /** Messages the broker may have in flight to us unacknowledged (MQTT 5 receive maximum): the memory bound. @default 64 */
  receiveMaximum: z.coerce.number().int().min(1).max(65535).default(64),
  /** Bytes held unacknowledged by JetStream before the bridge stops reading from the broker. @default 8388608 (8 MiB) */
  maxBufferBytes: z.coerce
    .number()
    .int()
    .min(1)
    .default(8 * 2 ** 20),
  /** JetStream KV bucket keeping each node's and device's last birth, so a restarted host resolves aliases. @default sparkplug-births */
  birthBucket: z
    .string()
    .regex(/^[-\w]+$/)
    .default('sparkplug-births'),
  /** Sparkplug host id: the host publishes its STATE on spBv1.0/STATE/<hostId> (retained, with a will). @default busway */
  hostId: z
    .string()
    .regex(/^[^/#+]+$/)
    .default('busway'),
  /** How long a missing `seq` may be late before the node is asked to rebirth. @default 2000 */
  reorderTimeoutMs: z.coerce.number().int().min(0).default(2000),
  /** Shortest time between two rebirth requests (NCMD Node Control/Rebirth) to one edge node. @default 5000 */
  rebirthIntervalMs: z.coerce.number().int().min(100).default(5000),
}).extend(ConsumerConfigSchema.pick({ nakDelayMs: true }).shape);
export type IngestSparkplugConfig = z.infer<typeof IngestSparkplugConfigSchema>;
