import { z } from 'zod';
import { ConsumerConfigSchema, RuntimeConfigSchema } from '@busway/runtime';

export const CorrelatorConfigSchema = RuntimeConfigSchema.extend(ConsumerConfigSchema.shape).extend({
  /** Redis holding the asset registry [REDIS_URL]. @default redis://127.0.0.1:6379 */
  redisUrl: z.string().min(1).default('redis://127.0.0.1:6379'),
  /** Durable consumer name. @default correlator */
  durable: z.string().default('correlator'),
  /** Bounded out-of-orderness: the watermark trails the newest event time by this much. @default 2000 */
  outOfOrdernessMs: z.coerce.number().int().min(0).default(2000),
  /** With no input for this long, the watermark follows the wall clock so idle input does not hold output back. @default 3000 */
  idleTimeoutMs: z.coerce.number().int().min(100).default(3000),
  /** How often buffered samples are checked for emission. @default 100 */
  flushIntervalMs: z.coerce.number().int().min(10).default(100),
  /** Sample identities remembered for dedup. @default 200000 */
  dedupCapacity: z.coerce.number().int().min(1000).default(200_000),
  /** Samples held at most; beyond it the oldest are emitted early (counted). @default 500000 */
  maxBuffered: z.coerce.number().int().min(1000).default(500_000),
  /** How long after a job start its rack power must step. @default 10000 */
  powerWindowMs: z.coerce.number().int().min(100).default(10_000),
  /** Smallest rack power step that counts. @default 1000 */
  powerStepMinW: z.coerce.number().min(0).default(1000),
  /** How long after a power step the coolant return may answer. @default 120000 */
  thermalWindowMs: z.coerce.number().int().min(1000).default(120_000),
  /** Smallest coolant return rise that counts. @default 0.3 */
  thermalRiseMinC: z.coerce.number().min(0).default(0.3),
});
export type CorrelatorConfig = z.infer<typeof CorrelatorConfigSchema>;
