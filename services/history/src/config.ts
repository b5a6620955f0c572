import { z } from 'zod';
import { RuntimeConfigSchema } from '@busway/runtime';

export const HistoryConfigSchema = RuntimeConfigSchema.extend({
  /** JetStream KV bucket holding the rollup checkpoint [BUSWAY_CHECKPOINT_BUCKET]. @default busway-history */
  checkpointBucket: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('busway-history'),
  /** Key of this worker's checkpoint in the bucket [BUSWAY_CHECKPOINT_KEY]. @default rollups */
  checkpointKey: z
    .string()
    .regex(/^[A-Za-z0-9_=/.-]+$/)
    .default('rollups'),
  /** A window closes once the newest event time seen is this far past its end [BUSWAY_ALLOWED_LATENESS_MS]. @default 5000 */
  allowedLatenessMs: z.coerce.number().int().min(0).default(5000),
  /**
   * With no input for this long, windows that ended this long ago by the wall clock close too, so a quiet
   * site still gets its last rollups; 0 disables it [BUSWAY_IDLE_CLOSE_MS]. @default 15000
   */
  idleCloseMs: z.coerce.number().int().min(0).default(15_000),
  /** Rollups awaiting their PubAck at once while windows close [BUSWAY_PUBLISH_CONCURRENCY]. @default 1024 */
  publishConcurrency: z.coerce.number().int().min(1).max(65_536).default(1024),
  /** Messages the ordered consumer buffers ahead of processing [BUSWAY_BATCH_SIZE]. @default 256 */
  batchSize: z.coerce.number().int().min(1).max(10_000).default(256),
});
export type HistoryConfig = z.infer<typeof HistoryConfigSchema>;
