/**
 * The fixed layout of one series' detector state: STRIDE doubles (Float64Array) and PROFILE_BUCKETS floats
 * (Float32Array, the daily profile). Every detector reads and writes its own fields at `offset + F.x`, so a
 * series costs the same bytes whatever it does, and a checkpoint is a copy of its slice.
 */
export const F = {
  // robust baseline
  n: 0,
  lastT: 1,
  lastX: 2,
  level: 3,
  scale: 4,
  fast: 5,
  tailQ: 6,
  // change point (two-sided CUSUM)
  cusumUp: 7,
  cusumDown: 8,
  lastChangeDir: 9,
  sinceChange: 10,
  // drift
  anchor: 11,
  wander: 12,
  slopePerMs: 13,
  // stuck
  run: 14,
  maxRun: 15,
  minStep: 16,
  // flags: VARIED | SEASONAL | ALARM
  flags: 17,
  // transient awaiting confirmation (signed severity), inside an explained window
  pendingSpike: 18,
  // daily seasonality
  firstT: 19,
  visitBucket: 20,
  visitSum: 21,
  visitCount: 22,
  prevVisitMean: 23,
  seasonalErr: 24,
  persistErr: 25,
  errCount: 26,
  profileMean: 27,
  // alarm hysteresis
  alarmRaisedT: 28,
  alarmBelowT: 29,
  alarmPeak: 30,
  // the level before the current episode of findings, so a return to it is a recovery, not a new fault
  normalBase: 31,
  sinceFinding: 32,
  // the mean level-to-anchor distance (a steady trend) and how often episodes start (routine changes)
  driftMean: 33,
  episodeRate: 34,
  // samples since the level last adopted an explained change (the noise there is learned afresh)
  sinceAdopt: 35,
  alarmBelowN: 36,
  // the largest step something explained on this series (decaying): a much bigger jump is not that
  explainedStep: 37,
} as const;

export const STRIDE = 38;
export const PROFILE_BUCKETS = 24;

export const Flag = { Varied: 1, Seasonal: 2, Alarm: 4 } as const;

/** Bytes of detector state per series, excluding the key and the map entry. */
export const STATE_BYTES = STRIDE * 8 + PROFILE_BUCKETS * 4;

export const hasFlag = (s: Float64Array, o: number, flag: number): boolean => (s[o + F.flags]! & flag) !== 0;

export function setFlag(s: Float64Array, o: number, flag: number, on: boolean): void {
  const f = s[o + F.flags]! | 0;
  s[o + F.flags] = on ? f | flag : f & ~flag;
}
