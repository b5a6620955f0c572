import { z } from 'zod';
import { ConsumerConfigSchema, RuntimeConfigSchema } from '@busway/runtime';

const mqttUrl = z.string().min(1).default('mqtt://127.0.0.1:1883');

export const IngestSparkplugConfigSchema = RuntimeConfigSchema.extend({
  /** MQTT broker to read Sparkplug B from [MQTT_URL]. @default mqtt://127.0.0.1:1883 */
  mqttUrl,
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
  /** Sparkplug host id: the host publishes its STATE on spBv1.0/STATE/<hostId> (retained, with a will). @default busway */
  hostId: z
    .string()
    .regex(/^[^/#+]+$/)
    .default('busway'),
}).extend(ConsumerConfigSchema.pick({ nakDelayMs: true }).shape);
export type IngestSparkplugConfig = z.infer<typeof IngestSparkplugConfigSchema>;

export const SparkplugDecodeConfigSchema = RuntimeConfigSchema.extend(ConsumerConfigSchema.shape).extend({
  /** MQTT broker the edge nodes listen on, for rebirth requests (NCMD) [MQTT_URL]. @default mqtt://127.0.0.1:1883 */
  mqttUrl,
  /** MQTT client id of the rebirth requests; one per replica. @default busway-sparkplug-decode */
  mqttClientId: z.string().min(1).default('busway-sparkplug-decode'),
  /** Durable consumer name on AUDIT. @default sparkplug-decode */
  durable: z.string().default('sparkplug-decode'),
  /**
   * Sparkplug groups this replica decodes [BUSWAY_GROUPS]: `+` is every group; a group name (e.g. `hall1`)
   * makes the replica own that group's nodes, so replicas split the work by group. @default +
   */
  groups: z
    .string()
    .regex(/^(\+|[^,.*>\s]+)$/, 'one Sparkplug group, or + for all')
    .default('+'),
  /** JetStream KV bucket keeping each node's and device's last birth, so a restarted host resolves aliases. @default sparkplug-births */
  birthBucket: z
    .string()
    .regex(/^[-\w]+$/)
    .default('sparkplug-births'),
  /** How long a missing `seq` may be late before the node is asked to rebirth. @default 2000 */
  reorderTimeoutMs: z.coerce.number().int().min(0).default(2000),
  /** Shortest time between two rebirth requests (NCMD Node Control/Rebirth) to one edge node. @default 5000 */
  rebirthIntervalMs: z.coerce.number().int().min(100).default(5000),
  /**
   * Messages fetched per pull [BUSWAY_BATCH_SIZE]: a Sparkplug message holds many metrics, and the pulled messages
   * stay in memory until the last of them is stored. @default 64
   */
  batchSize: z.coerce.number().int().min(1).max(10_000).default(64),
});
export type SparkplugDecodeConfig = z.infer<typeof SparkplugDecodeConfigSchema>;
