import { busway, Long } from '@busway/proto';

const NS_PER_MS = Long.fromNumber(1_000_000, true);
const NS_PER_S = Long.fromNumber(1_000_000_000, true);

export interface TimeRules {
  taiUtcOffsetS: number;
  maxFutureSkewMs: number;
}

const isZero = (v: Long | number | null | undefined) =>
  v == null || (typeof v === 'number' ? v === 0 : v.isZero());
const asLong = (v: Long | number) =>
  typeof v === 'number' ? Long.fromNumber(v, true) : Long.fromValue(v).toUnsigned();

/**
 * Puts a sample's time on UTC and judges it: PTP (TAI) is shifted to UTC; a missing time becomes the ingest
 * time, flagged; a time too far ahead of the ingest time is clock skew: flagged, marked uncertain and
 * clamped to the ingest time, so it can never drag a watermark forward.
 */
export function applyTimeRules(s: busway.v1.ISample, rules: TimeRules): void {
  const ingest = isZero(s.ingestTimeNs) ? undefined : asLong(s.ingestTimeNs as Long);
  const flags = s.flags ?? (s.flags = []);
  if (isZero(s.eventTimeNs)) {
    if (ingest) s.eventTimeNs = ingest;
    s.clockSource = busway.v1.ClockSource.CLOCK_SOURCE_INGEST;
    flags.push('no-source-time');
    return;
  }
  let t = asLong(s.eventTimeNs as Long);
  if (s.clockSource === busway.v1.ClockSource.CLOCK_SOURCE_PTP)
    t = t.subtract(NS_PER_S.multiply(rules.taiUtcOffsetS));
  if (ingest && t.greaterThan(ingest.add(NS_PER_MS.multiply(rules.maxFutureSkewMs)))) {
    flags.push('clock-skew');
    s.quality = busway.v1.Quality.QUALITY_UNCERTAIN;
    t = ingest;
  }
  s.eventTimeNs = t;
}
