import { z } from 'zod';
import { ConsumerConfigSchema, RuntimeConfigSchema } from '@busway/runtime';

export const AnomalyConfigSchema = RuntimeConfigSchema.extend(ConsumerConfigSchema.shape).extend({
  /** Durable consumer name. @default anomaly */
  durable: z.string().default('anomaly'),
  /** Samples a series needs before it is scored (no alarms while learning). @default 30 */
  warmupSamples: z.coerce.number().int().min(2).default(30),
  /** Robust z at which the score reaches 0.5. @default 4 */
  zThreshold: z.coerce.number().positive().default(4),
  /** Weight of a new sample in the baseline. @default 0.05 */
  alpha: z.coerce.number().gt(0).lt(1).default(0.05),
  /** Consecutive high samples that make a level shift rather than spikes. @default 5 */
  shiftSamples: z.coerce.number().int().min(2).default(5),
  /** Identical consecutive values, on a series that used to vary, that make a stuck sensor. @default 60 */
  stuckSamples: z.coerce.number().int().min(3).default(60),
  /** Series tracked at most; the least recently updated is forgotten first. @default 200000 */
  maxSeries: z.coerce.number().int().min(1).default(200_000),
});
export type AnomalyConfig = z.infer<typeof AnomalyConfigSchema>;
export type DetectorOptions = Pick<
  AnomalyConfig,
  'warmupSamples' | 'zThreshold' | 'alpha' | 'shiftSamples' | 'stuckSamples' | 'maxSeries'
>;
