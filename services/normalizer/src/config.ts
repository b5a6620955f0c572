import { z } from 'zod';
import { ConsumerConfigSchema, RuntimeConfigSchema } from '@busway/runtime';

export const NormalizerConfigSchema = RuntimeConfigSchema.extend(ConsumerConfigSchema.shape).extend({
  /** Redis holding the asset registry [REDIS_URL]. @default redis://127.0.0.1:6379 */
  redisUrl: z.string().min(1).default('redis://127.0.0.1:6379'),
  /** TAI − UTC in seconds, subtracted from PTP timestamps (37 s since 2017). @default 37 */
  taiUtcOffsetS: z.coerce.number().int().min(0).default(37),
  /** A sample further ahead of its ingest time than this is clock skew: flagged and clamped. @default 5000 */
  maxFutureSkewMs: z.coerce.number().int().min(0).default(5000),
  /** A point with a deadband still reports at least this often, so a quiet point shows it is alive. @default 60000 */
  deadbandMaxSilenceMs: z.coerce.number().int().min(1000).default(60_000),
  /**
   * Messages fetched per pull [BUSWAY_BATCH_SIZE]. Smaller than other stages' 256: a raw message holds hundreds of
   * samples, and the pulled messages stay in memory until the last of them is acknowledged.
   * @default 64
   */
  batchSize: z.coerce.number().int().min(1).max(10_000).default(64),
  /**
   * Messages of a pulled batch normalized and published at once; the next ones start when their PubAcks are in.
   * Their output waits in memory meanwhile, so this bounds the worker's buffers [BUSWAY_PUBLISH_WINDOW].
   * @default 32
   */
  publishWindow: z.coerce.number().int().min(1).default(32),
  /** Durable consumer name. @default normalizer */
  durable: z.string().default('normalizer'),
});
export type NormalizerConfig = z.infer<typeof NormalizerConfigSchema>;
