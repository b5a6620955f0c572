import { z } from 'zod';
import { ConsumerConfigSchema, ControlTierConfigSchema, RuntimeConfigSchema } from '@busway/runtime';

// incidents and alarms travel on the control tier (control* keys), samples and scores on the worker's own keys
export const FanoutConfigSchema = RuntimeConfigSchema.extend(ConsumerConfigSchema.shape)
  .extend(ControlTierConfigSchema.shape)
  .extend({
    /** Redis for last values, incidents, anomaly scores and active alarms [REDIS_URL]. @default redis://127.0.0.1:6379 */
    redisUrl: z.string().min(1).default('redis://127.0.0.1:6379'),
    /** Incidents kept in the Redis list. @default 1000 */
    maxIncidents: z.coerce.number().int().min(1).default(1000),
    /** How long a cleared alarm's id is remembered, so its raise arriving later stays cleared; at least ALARMS' retention [BUSWAY_CLEARED_ALARM_TTL_MS]. @default 2592000000 (30 d) */
    clearedAlarmTtlMs: z.coerce
      .number()
      .int()
      .min(60_000)
      .default(30 * 24 * 3_600_000),
    /** UNS messages awaiting their JetStream PubAck at once [BUSWAY_MAX_PENDING_PUBLISHES]. @default 1024 */
    maxPendingPublishes: z.coerce.number().int().min(1).max(65_536).default(1024),
  });
export type FanoutConfig = z.infer<typeof FanoutConfigSchema>;
