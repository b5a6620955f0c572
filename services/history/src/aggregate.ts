import { busway, msFromTimeNs } from '@busway/proto';

/** Rollup windows: name as it appears in subjects and APIs, and length. */
export const Periods = { '1m': 60_000, '1h': 3_600_000 } as const;
export type Period = keyof typeof Periods;

/** Min, max, sum and count of one point over one window, with its first and last sample. */
export interface Aggregate {
  min: number;
  max: number;
  sum: number;
  count: number;
  firstMs: number;
  lastMs: number;
  last: number;
}

/** Start of the window of length `periodMs` holding `timeMs` (windows are aligned to the epoch). */
export function windowStartMs(timeMs: number, periodMs: number): number {
  return Math.floor(timeMs / periodMs) * periodMs;
}

export function newAggregate(value: number, timeMs: number): Aggregate {
  return { min: value, max: value, sum: value, count: 1, firstMs: timeMs, lastMs: timeMs, last: value };
}

/**
 * Adds one sample. A sample not newer than the last one folded is a repeat (a redelivery, or a re-emission
 * after an upstream restart): per point the input is in event-time order, so it is skipped, never counted twice.
 */
export function fold(agg: Aggregate, value: number, timeMs: number): boolean {
  if (timeMs <= agg.lastMs) return false;
  if (value < agg.min) agg.min = value;
  if (value > agg.max) agg.max = value;
  agg.sum += value;
  agg.count++;
  agg.lastMs = timeMs;
  agg.last = value;
  return true;
}

/** Combines two windows' aggregates (the 1 h rollup from its 1 min rollups); exact for min/max/count/sum. */
export function merge(a: Aggregate, b: Aggregate): Aggregate {
  const later = b.lastMs >= a.lastMs ? b : a;
  return {
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    sum: a.sum + b.sum,
    count: a.count + b.count,
    firstMs: Math.min(a.firstMs, b.firstMs),
    lastMs: later.lastMs,
    last: later.last,
  };
}

/** Why a sample is not rolled up, or undefined when it is. */
export type SkipReason = 'no-path' | 'not-numeric' | 'bad-quality';

const BAD = new Set<number>([busway.v1.Quality.QUALITY_BAD, busway.v1.Quality.QUALITY_STALE]);

/** The value a rollup aggregates, or why the sample has none: numeric, finite, not bad or stale. */
export function rollupValue(s: busway.v1.ISample): number | SkipReason {
  if (!s.path || !s.metric) return 'no-path';
  if (s.quality != null && BAD.has(s.quality)) return 'bad-quality';
  const v =
    s.doubleValue != null ? s.doubleValue : s.intValue != null ? Number(s.intValue.toString()) : undefined;
  return v !== undefined && Number.isFinite(v) ? v : 'not-numeric';
}

/** Event time in ms of a sample. */
export const eventMs = (s: busway.v1.ISample): number => msFromTimeNs(s.eventTimeNs);
