import { z } from 'zod';
import { RuntimeConfigSchema } from '@busway/runtime';

export const IngestDsxConfigSchema = RuntimeConfigSchema.extend({
  /** MQTT broker of the DSX Exchange BMS event bus [MQTT_URL]. @default mqtt://127.0.0.1:1883 */
  mqttUrl: z.string().min(1).default('mqtt://127.0.0.1:1883'),
  /** MQTT client id; stable so the broker keeps the session (and unacked messages) across restarts. @default busway-ingest-dsx */
  mqttClientId: z.string().min(1).default('busway-ingest-dsx'),
  /** Topic root of the BMS contract. @default BMS/v1 */
  topicRoot: z.string().min(1).default('BMS/v1'),
  /** Messages the broker may have in flight to the bridge (MQTT 5 receive maximum): its memory bound. @default 64 */
  receiveMaximum: z.coerce.number().int().min(1).max(65535).default(64),
  /** Bytes held unacknowledged by JetStream before the bridge stops reading from the broker. @default 8388608 (8 MiB) */
  maxBufferBytes: z.coerce
    .number()
    .int()
    .min(1)
    .default(8 * 2 ** 20),
  /** Redis holding the asset registry the bridge adds the BMS topology to [REDIS_URL]. @default redis://127.0.0.1:6379 */
  redisUrl: z.string().min(1).default('redis://127.0.0.1:6379'),
  /** Index of the hall segment in the vendor tag path (`nvidia/titan/pod1C/…` → pod1C). @default 2 */
  hallSegment: z.coerce.number().int().min(0).default(2),
  /** A tag-path segment matching this regex (case-insensitive) is the row. @default ^row */
  rowPattern: z.string().default('^row'),
  /** Metadata changes are merged into the registry at most this often. @default 500 */
  registryDebounceMs: z.coerce.number().int().min(10).default(500),
});
export type IngestDsxConfig = z.infer<typeof IngestDsxConfigSchema>;
