import { busway, Long } from '@busway/proto';

export interface TimeRules {
  taiUtcOffsetS: number;
  maxFutureSkewMs: number;
}

const isZero = (v: Long | number | null | undefined) =>
  v == null || (typeof v === 'number' ? v === 0 : v.isZero());
const asLong = (v: Long | number) =>
  typeof v === 'number' ? Long.fromNumber(v, true) : v.unsigned ? v : v.toUnsigned();
/** Nanoseconds as a double: exact to ~256 ns today, plenty to compare against bounds of seconds. */
const approxNs = (v: Long) => v.high * 4294967296 + (v.low >>> 0);

/** Adds a flag; decoded samples without flags share one frozen empty array, so that one is replaced. */
function flag(s: busway.v1.ISample, f: string): void {
  if (!s.flags || s.flags.length === 0) s.flags = [f];
  else s.flags.push(f);
}

/**
 * Puts a sample's time on UTC and judges it: PTP (TAI) is shifted to UTC; a missing time becomes the ingest
 * time, flagged; a time too far ahead of the ingest time is clock skew: flagged, marked uncertain and
 * clamped to the ingest time, so it can never drag a watermark forward.
 */
export function applyTimeRules(s: busway.v1.ISample, rules: TimeRules): void {
  const ingest = isZero(s.ingestTimeNs) ? undefined : asLong(s.ingestTimeNs as Long);
  if (isZero(s.eventTimeNs)) {
    if (ingest) s.eventTimeNs = ingest;
    s.clockSource = busway.v1.ClockSource.CLOCK_SOURCE_INGEST;
    flag(s, 'no-source-time');
    return;
  }
  let t = asLong(s.eventTimeNs as Long);
  if (s.clockSource === busway.v1.ClockSource.CLOCK_SOURCE_PTP)
    t = t.subtract(Long.fromNumber(rules.taiUtcOffsetS * 1e9, true));
  if (ingest && approxNs(t) > approxNs(ingest) + rules.maxFutureSkewMs * 1e6) {
    flag(s, 'clock-skew');
    s.quality = busway.v1.Quality.QUALITY_UNCERTAIN;
    t = ingest;
  }
  s.eventTimeNs = t;
}
