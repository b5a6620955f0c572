import type { EngineOptions } from './config.js';
import { F, Flag, hasFlag, setFlag } from './state-layout.js';

export const AlarmChange = { None: 0, Raised: 1, Cleared: 2 } as const;
export type AlarmChange = (typeof AlarmChange)[keyof typeof AlarmChange];

type AlarmOptions = Pick<
  EngineOptions,
  'alarmThreshold' | 'clearThreshold' | 'clearHoldMs' | 'clearHoldSamples'
>;

/**
 * Hysteresis per series, in the series' own state: raised when an eligible score reaches alarmThreshold,
 * cleared only after the score has stayed below clearThreshold for clearHoldMs of event time and at least
 * clearHoldSamples samples. One fault, one alarm: a score that dips and comes back inside the hold keeps the
 * same alarm.
 */
export function updateAlarm(
  s: Float64Array,
  o: number,
  tMs: number,
  score: number,
  eligible: boolean,
  opts: AlarmOptions,
): AlarmChange {
  if (!hasFlag(s, o, Flag.Alarm)) {
    if (!eligible || score < opts.alarmThreshold) return AlarmChange.None;
    setFlag(s, o, Flag.Alarm, true);
    s[o + F.alarmRaisedT] = tMs;
    s[o + F.alarmBelowT] = Number.NaN;
    s[o + F.alarmBelowN] = 0;
    s[o + F.alarmPeak] = score;
    return AlarmChange.Raised;
  }
  if (eligible && score > s[o + F.alarmPeak]!) s[o + F.alarmPeak] = score;
  if (score >= opts.clearThreshold && eligible) {
    s[o + F.alarmBelowT] = Number.NaN;
    s[o + F.alarmBelowN] = 0;
    return AlarmChange.None;
  }
  if (Number.isNaN(s[o + F.alarmBelowT]!)) s[o + F.alarmBelowT] = tMs;
  const below = s[o + F.alarmBelowN]! + 1;
  s[o + F.alarmBelowN] = below;
  if (tMs - s[o + F.alarmBelowT]! < opts.clearHoldMs || below < opts.clearHoldSamples)
    return AlarmChange.None;
  setFlag(s, o, Flag.Alarm, false);
  return AlarmChange.Cleared;
}
