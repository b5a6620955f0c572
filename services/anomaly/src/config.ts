import { z } from 'zod';
import { ConsumerConfigSchema, RuntimeConfigSchema } from '@busway/runtime';

/** What the detectors need: every key is per series and changes no state size. */
export const DetectorOptionsSchema = z.object({
  /** Samples a series needs before it is scored (no alarms while learning). @default 30 */
  warmupSamples: z.coerce.number().int().min(2).default(30),
  /** Weight of a new sample in the robust baseline (level and scale). @default 0.05 */
  alpha: z.coerce.number().gt(0).lt(1).default(0.05),
  /** Robust z (after the series' own tail correction) at which a single sample is a spike: score 0.5. @default 6 */
  zThreshold: z.coerce.number().positive().default(6),
  /** CUSUM decision threshold (in robust sigmas, allowance 1 sigma) for a change point: score 0.5. @default 10 */
  changeThreshold: z.coerce.number().positive().default(10),
  /** Memory of the long-term anchor the drift detector compares the level with, in samples. @default 1000 */
  driftHorizonSamples: z.coerce.number().int().min(10).default(1000),
  /** Level-to-anchor distance, in robust sigmas, that makes a drift (at least 4x the series' usual wander). @default 4 */
  driftThreshold: z.coerce.number().positive().default(4),
  /** Identical consecutive values, on a series that varies, that make a stuck sensor (at least 3x its longest normal run). @default 10 */
  stuckSamples: z.coerce.number().int().min(3).default(10),
  /** Days a series must have been seen, with its daily profile predicting better than the last hour, before seasonality is used. @default 2 */
  seasonalMinDays: z.coerce.number().min(1).default(2),
  /** Series tracked at most; beyond it the least recently used is forgotten (CLOCK approximation of LRU). @default 200000 */
  maxSeries: z.coerce.number().int().min(1).default(200_000),
});
export type DetectorOptions = z.infer<typeof DetectorOptionsSchema>;

/** Alarms with hysteresis, and what explains or contradicts a change. */
export const EngineOptionsSchema = DetectorOptionsSchema.extend({
  /** A score at or above this raises an alarm on the series (0.5 = a detector's own threshold). @default 0.5 */
  alarmThreshold: z.coerce.number().gt(0).max(1).default(0.5),
  /** An alarm clears once the score has stayed below this for clearHoldMs. @default 0.25 */
  clearThreshold: z.coerce.number().min(0).lt(1).default(0.25),
  /** How long (event time) the score must stay below clearThreshold before the alarm clears. @default 60000 */
  clearHoldMs: z.coerce.number().int().min(0).default(60_000),
  /** And for how many samples at least (a slow series: 10 of its samples, however long that is). @default 10 */
  clearHoldSamples: z.coerce.number().int().min(1).default(10),
  /** How long after a job start or end (or after a job-power-thermal incident) a temperature change on its racks and their coolers is expected. @default 180000 */
  explainWindowMs: z.coerce.number().int().min(1000).default(180_000),
  /** The same for quantities that answer a job at once (power, current, utilization, inlet air). @default 30000 */
  explainFastWindowMs: z.coerce.number().int().min(1000).default(30_000),
  /** Score at most given to a change that a job or an incident explains. @default 0.2 */
  expectedScoreCap: z.coerce.number().min(0).max(1).default(0.2),
  /** Explanation windows (jobs, incidents) remembered at most; the oldest is dropped first. @default 10000 */
  maxExplanations: z.coerce.number().int().min(1).default(10_000),
  /** Specific heat of the coolant, J/(kg K) (water 4186; PG25 about 3900). @default 4186 */
  coolantCpJPerKgK: z.coerce.number().positive().default(4186),
  /** Coolant density, kg/L. @default 1 */
  coolantDensityKgPerL: z.coerce.number().positive().default(1),
  /** First-order time constant of a CDU's return temperature answering a heat change. @default 20000 */
  coolantTimeConstantMs: z.coerce.number().int().min(0).default(20_000),
  /** Transport delay from the racks to the CDU's return sensor. @default 3000 */
  coolantTransportDelayMs: z.coerce.number().int().min(0).default(3000),
  /** A rack power, CDU flow or supply temperature older than this is not used for the coolant heat balance. @default 10000 */
  physicsStaleMs: z.coerce.number().int().min(100).default(10_000),
});
export type EngineOptions = z.infer<typeof EngineOptionsSchema>;

export const AnomalyConfigSchema = RuntimeConfigSchema.extend(ConsumerConfigSchema.shape)
  .extend(EngineOptionsSchema.shape)
  .extend({
    /** Durable consumer of ordered samples. @default anomaly */
    durable: z.string().default('anomaly'),
    /** Samples this replica scores: one replica per filter (partition by site, hall or row to scale out). @default ordered.v1.samples.> */
    filterSubject: z.string().min(1).default('ordered.v1.samples.>'),
    /** Durable consumer of ordered job events (what explains a power or thermal change). @default anomaly-jobs */
    jobsDurable: z.string().default('anomaly-jobs'),
    /** Durable consumer of correlated incidents. @default anomaly-incidents */
    incidentsDurable: z.string().default('anomaly-incidents'),
    /** Which scores are published: every sample's, or only findings (not normal, not learning): a fraction of the volume. Alarms are published either way. @default all */
    publishScores: z.enum(['all', 'findings']).default('all'),
    /** Redis holding the registry and the detector checkpoints [REDIS_URL]. @default redis://127.0.0.1:6379 */
    redisUrl: z.string().min(1).default('redis://127.0.0.1:6379'),
    /** How often changed detector state is written to Redis (and always on stop). @default 10000 */
    checkpointIntervalMs: z.coerce.number().int().min(100).default(10_000),
    /** Redis hash holding the checkpoints; one per durable. @default busway:anomaly:v1:state:<durable> */
    checkpointKey: z.string().min(1).optional(),
  });
export type AnomalyConfig = z.infer<typeof AnomalyConfigSchema>;
