import { F, Flag, hasFlag, PROFILE_BUCKETS, setFlag } from '../state-layout.js';

export const DAY_MS = 86_400_000;
const BUCKET_MS = DAY_MS / PROFILE_BUCKETS;
/** Weight of today's visit of a bucket in its profile value (a memory of a few days). */
const PROFILE_ALPHA = 0.3;
/** Seasonality is switched on when the profile's error is below this fraction of the last hour's... */
const ON_RATIO = 0.5;
/** ...and off again above this one (hysteresis). */
const OFF_RATIO = 0.8;

/**
 * Daily seasonality in PROFILE_BUCKETS buckets (UTC hour of day). Each bucket keeps the mean of its visits
 * (EWMA across days). The profile is used only once the series has shown it: seen for `minDays`, every
 * bucket visited, and the profile predicting a bucket's mean at most ON_RATIO as badly as the previous
 * bucket's mean does (persistence), which white noise and random walks never manage.
 * Returns how much the seasonal offset at `tMs` changed (switched on or off, or a bucket relearned): the
 * caller moves its deseasonalized levels by minus that, so the change is not mistaken for a level shift.
 */
export function updateSeasonal(
  s: Float64Array,
  o: number,
  p: Float32Array,
  po: number,
  tMs: number,
  x: number,
  minDays: number,
): number {
  const bucket = Math.floor((((tMs % DAY_MS) + DAY_MS) % DAY_MS) / BUCKET_MS);
  let delta = 0;
  if (bucket !== s[o + F.visitBucket] && s[o + F.visitCount]! > 0) {
    delta = foldVisit(s, o, p, po, tMs, minDays);
    s[o + F.visitSum] = 0;
    s[o + F.visitCount] = 0;
  }
  s[o + F.visitBucket] = bucket;
  s[o + F.visitSum] = s[o + F.visitSum]! + x;
  s[o + F.visitCount] = s[o + F.visitCount]! + 1;
  return delta;
}

function foldVisit(s: Float64Array, o: number, p: Float32Array, po: number, tMs: number, minDays: number) {
  const b = s[o + F.visitBucket]!;
  const mean = s[o + F.visitSum]! / s[o + F.visitCount]!;
  const prior = p[po + b]!;
  const before = hasFlag(s, o, Flag.Seasonal) ? seasonalOffset(s, o, p, po, tMs) : 0;
  if (!Number.isNaN(prior)) {
    const n = s[o + F.errCount]!;
    const a = 1 / Math.min(n + 1, 2 * PROFILE_BUCKETS);
    const prev = s[o + F.prevVisitMean]!;
    s[o + F.seasonalErr] = s[o + F.seasonalErr]! + a * (Math.abs(mean - prior) - s[o + F.seasonalErr]!);
    s[o + F.persistErr] = s[o + F.persistErr]! + a * (Math.abs(mean - prev) - s[o + F.persistErr]!);
    s[o + F.errCount] = n + 1;
    p[po + b] = prior + PROFILE_ALPHA * (mean - prior);
  } else p[po + b] = mean;
  s[o + F.prevVisitMean] = mean;
  let sum = 0;
  let complete = true;
  for (let i = 0; i < PROFILE_BUCKETS; i++) {
    const v = p[po + i]!;
    if (Number.isNaN(v)) complete = false;
    else sum += v;
  }
  s[o + F.profileMean] = sum / PROFILE_BUCKETS;
  const seen = tMs - s[o + F.firstT]! >= minDays * DAY_MS;
  const ratio = s[o + F.seasonalErr]! / Math.max(s[o + F.persistErr]!, 1e-12);
  const on = hasFlag(s, o, Flag.Seasonal);
  const next = on
    ? complete && ratio <= OFF_RATIO
    : complete && seen && s[o + F.errCount]! >= PROFILE_BUCKETS && ratio < ON_RATIO;
  if (next !== on) setFlag(s, o, Flag.Seasonal, next);
  const after = next ? seasonalOffset(s, o, p, po, tMs) : 0;
  return after - before;
}

/** The profile at `tMs` (linear between bucket centres) minus its mean: what the time of day adds. */
export function seasonalOffset(s: Float64Array, o: number, p: Float32Array, po: number, tMs: number): number {
  const pos = (((tMs % DAY_MS) + DAY_MS) % DAY_MS) / BUCKET_MS - 0.5;
  const lo = Math.floor(pos);
  const w = pos - lo;
  const i0 = (lo + PROFILE_BUCKETS) % PROFILE_BUCKETS;
  const i1 = (i0 + 1) % PROFILE_BUCKETS;
  return (1 - w) * p[po + i0]! + w * p[po + i1]! - s[o + F.profileMean]!;
}
