import { z } from 'zod';
import { ConsumerConfigSchema, RuntimeConfigSchema } from '@busway/runtime';
import { ordinalOf, PartitionKeys } from './partitioning.js';

export const CorrelatorConfigSchema = RuntimeConfigSchema.extend(ConsumerConfigSchema.shape)
  .extend({
    /** Redis holding the asset registry and the checkpoints [REDIS_URL]. @default redis://127.0.0.1:6379 */
    redisUrl: z.string().min(1).default('redis://127.0.0.1:6379'),
    /** Redelivery timeout; lost deliveries (a failed pull) hold the watermark until they return, so keep it short [BUSWAY_ACK_WAIT_MS]. @default 10000 */
    ackWaitMs: z.coerce.number().int().min(1000).default(10_000),
    /** Durable consumer name; with partitions, `<durable>-p<n>` and `<durable>-p<n>-events`. @default correlator */
    durable: z.string().min(1).default('correlator'),
    /** YAML or JSON rules file (see README); none: the built-in rule set. @default none */
    rulesFile: z.string().min(1).optional(),
    /** partition: one watermark per partition (its newest event time less the bound; a source lagging the others by more turns late); source: one per rack subject (the partition waits for the slowest). @default partition */
    watermarkScope: z.enum(['partition', 'source']).default('partition'),
    /** Bounded out-of-orderness: the watermark trails the newest event time by this much. @default 2000 */
    outOfOrdernessMs: z.coerce.number().int().min(0).default(2000),
    /** A sample at most this far behind the watermark is still emitted (flagged `late`); older ones go to ordered.v1.late. @default 0 */
    allowedLatenessMs: z.coerce.number().int().min(0).default(0),
    /** A partition (watermarkScope source: a rack subject) with no input for this long stops holding the watermark back. @default 3000 */
    idleTimeoutMs: z.coerce.number().int().min(100).default(3000),
    /** watermarkScope source: a source further than this behind the newest one stops holding the watermark back (its samples turn late). @default 30000 */
    maxSourceLagMs: z.coerce.number().int().min(0).default(30_000),
    /** How often the watermark is re-evaluated without input (idle sources, wall clock). @default 100 */
    flushIntervalMs: z.coerce.number().int().min(10).default(100),
    /** Output slot: ordered batches cover whole slots, so their ids are the same after a replay. @default 10 */
    emitSlotMs: z.coerce.number().int().min(1).max(1000).default(10),
    /** Identities (event time, sequence) remembered per point to recognize a repeated sample. @default 16 */
    dedupDepth: z.coerce.number().int().min(1).max(256).default(16),
    /** Points tracked for dedup at most; beyond it the oldest-seen point is forgotten. @default 200000 */
    maxKeys: z.coerce.number().int().min(100).default(200_000),
    /** Samples held at most; beyond it the oldest slots leave early (counted as forced). @default 500000 */
    maxBuffered: z.coerce.number().int().min(1000).default(500_000),
    /** How often the state is checkpointed to Redis and the inputs it covers acknowledged. @default 1000 */
    checkpointIntervalMs: z.coerce.number().int().min(50).default(1000),
    /** Redis key prefix of the checkpoints (one key per partition). @default busway:correlator:v1 */
    checkpointPrefix: z.string().min(1).default('busway:correlator:v1'),
    /** Partitions of NORM samples; must match the server's subject mapping (1: no mapping) [BUSWAY_PARTITION_COUNT]. @default 1 */
    partitionCount: z.coerce.number().int().min(1).max(1024).default(1),
    /** Correlator replicas sharing the partitions [BUSWAY_REPLICAS]. @default 1 */
    replicas: z.coerce.number().int().min(1).max(1024).default(1),
    /** This replica's index [BUSWAY_REPLICA_INDEX]. @default the StatefulSet ordinal at the end of HOSTNAME, else 0 */
    replicaIndex: z.coerce
      .number()
      .int()
      .min(0)
      .default(() => ordinalOf(process.env.HOSTNAME) ?? 0),
    /** UNS tokens that form the partition key: hall, row or rack; must match the server's mapping. @default row */
    partitionBy: z.enum(Object.keys(PartitionKeys) as [keyof typeof PartitionKeys]).default('row'),
  })
  .superRefine((c, ctx) => {
    if (c.replicaIndex >= c.replicas)
      ctx.addIssue({
        code: 'custom',
        path: ['replicaIndex'],
        message: `replica index ${c.replicaIndex} is not below replicas (${c.replicas})`,
      });
    if (c.checkpointIntervalMs * 2 > c.ackWaitMs)
      ctx.addIssue({
        code: 'custom',
        path: ['checkpointIntervalMs'],
        message: `must be at most half of ackWaitMs (${c.ackWaitMs}): inputs are acknowledged at checkpoints`,
      });
  });
export type CorrelatorConfig = z.infer<typeof CorrelatorConfigSchema>;
