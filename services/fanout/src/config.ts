import { z } from 'zod';
import { ConsumerConfigSchema, ControlTierConfigSchema, RuntimeConfigSchema } from '@busway/runtime';

// incidents travel on the control tier (control* keys), samples and scores on the worker's own keys
export const FanoutConfigSchema = RuntimeConfigSchema.extend(ConsumerConfigSchema.shape)
  .extend(ControlTierConfigSchema.shape)
  .extend({
    /** Redis for last values, incidents and anomaly scores [REDIS_URL]. @default redis://127.0.0.1:6379 */
    redisUrl: z.string().min(1).default('redis://127.0.0.1:6379'),
    /** Incidents kept in the Redis list. @default 1000 */
    maxIncidents: z.coerce.number().int().min(1).default(1000),
    /** Anomaly scores at or above this are also published as alarms on events.v1.anomaly.*. @default 0.8 */
    alarmScore: z.coerce.number().min(0).max(1).default(0.8),
    /** UNS messages awaiting their JetStream PubAck at once [BUSWAY_MAX_PENDING_PUBLISHES]. @default 1024 */
    maxPendingPublishes: z.coerce.number().int().min(1).max(65_536).default(1024),
  });
export type FanoutConfig = z.infer<typeof FanoutConfigSchema>;
