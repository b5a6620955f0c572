import { z } from 'zod';
import { Streams } from '@busway/proto';
import { fromJson } from './config-json.js';
import type { StreamSpec } from './provision.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Retention of each fabric stream: raw short (audit and replay), normalized days, incidents long. */
export const DEFAULT_RETENTION_MS: Record<keyof typeof Streams, number> = {
  Raw: HOUR_MS,
  Norm: DAY_MS,
  Ordered: DAY_MS,
  Incidents: 30 * DAY_MS,
  Anomalies: 7 * DAY_MS,
  Alarms: 30 * DAY_MS,
  DeadLetter: 7 * DAY_MS,
  Audit: HOUR_MS,
  Uns: 7 * DAY_MS,
  Rollup1m: 30 * DAY_MS,
  Rollup1h: 400 * DAY_MS,
  Control: 30 * DAY_MS,
};

/** Streams whose default size differs from the common one (history holds every sample for days). */
const DEFAULT_MAX_BYTES: Partial<Record<keyof typeof Streams, number>> = {
  Uns: 8 * 1024 ** 3,
  Rollup1m: 2 * 1024 ** 3,
};

/** Streams read by point and time (history queries): direct get, from any replica. */
const DIRECT_GET = new Set<keyof typeof Streams>(['Uns', 'Rollup1m', 'Rollup1h']);

const DURATION_MS = { ms: 1, s: 1000, m: 60_000, h: HOUR_MS, d: DAY_MS } as const;
const BYTES = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 } as const;

/** A quantity given as a number, or as a string with one of `units` ("7d", "10GiB"). */
const quantity = (units: Record<string, number>, what: string) =>
  z.union([z.number(), z.string()]).transform((raw, ctx) => {
    if (typeof raw === 'number') return raw;
    const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(raw);
    const factor = m ? (m[2] === '' ? 1 : units[m[2] as string]) : undefined;
    if (!m || factor === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `${what}: '${raw}' is not a number or "<n><${Object.keys(units).join('|')}>"`,
      });
      return z.NEVER;
    }
    return Math.round(Number(m[1]) * factor);
  });

/** Limits of one stream; a key left out keeps the stream's default. */
export const StreamLimitSchema = z
  .object({
    /** Age beyond which messages are removed, ms or "7d" / "36h"; 0 keeps them forever. */
    maxAgeMs: quantity(DURATION_MS, 'maxAgeMs').pipe(z.number().int().min(0)).optional(),
    /** Size beyond which the oldest messages are removed, bytes or "10GiB"; -1 is unlimited. */
    maxBytes: quantity(BYTES, 'maxBytes').pipe(z.number().int().min(-1)).optional(),
  })
  .strict();

const streamNames = Object.values(Streams).map((s) => s.name) as [string, ...string[]];

/** Per-stream limits by stream name (RAW, NORM, UNS, ROLLUP_1M, ...); a JSON string is parsed first. */
export const StreamLimitsSchema = z.preprocess(
  fromJson('object of stream limits'),
  z.partialRecord(z.enum(streamNames), StreamLimitSchema),
);
export type StreamLimits = z.infer<typeof StreamLimitsSchema>;

/**
 * Every fabric stream with its limits: the defaults above, overridden per stream by `limits` (configuration
 * key `streamLimits`); `replicas` is 3 on a production cluster.
 */
export function fabricStreams(replicas = 1, maxBytes = 1024 ** 3, limits: StreamLimits = {}): StreamSpec[] {
  return (Object.keys(Streams) as (keyof typeof Streams)[]).map((key) => {
    const own = limits[Streams[key].name];
    const maxAgeMs = own?.maxAgeMs ?? DEFAULT_RETENTION_MS[key];
    return {
      ...Streams[key],
      maxAgeMs,
      maxBytes: own?.maxBytes ?? DEFAULT_MAX_BYTES[key] ?? maxBytes,
      replicas,
      // JetStream refuses a duplicate window longer than the retention
      ...(maxAgeMs > 0 && maxAgeMs < 120_000 ? { duplicateWindowMs: maxAgeMs } : {}),
      ...(DIRECT_GET.has(key) ? { allowDirect: true } : {}),
    };
  });
}
