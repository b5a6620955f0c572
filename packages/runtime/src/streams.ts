import { Streams } from '@busway/proto';
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
  DeadLetter: 7 * DAY_MS,
  Audit: HOUR_MS,
};

/** Every fabric stream with its default limits; `replicas` is 3 on a production cluster. */
export function fabricStreams(replicas = 1, maxBytes = 1024 ** 3): StreamSpec[] {
  return (Object.keys(Streams) as (keyof typeof Streams)[]).map((key) => ({
    ...Streams[key],
    maxAgeMs: DEFAULT_RETENTION_MS[key],
    maxBytes,
    replicas,
  }));
}
