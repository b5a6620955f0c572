/** Redis keys that fan-out writes and the CLI and APIs read, version 1. */
export const RedisKeys = {
  /** Set of UNS subjects that have a last value. */
  lastValueIndex: 'busway:lv:v1:index',
  /** List of the latest incidents, newest first (JSON). */
  incidents: 'busway:incidents:v1',
  /** Set of anomaly-score hash keys (anomalyKey), so readers can match them by pattern. */
  anomalyIndex: 'busway:anomaly:v1:index',
  /** Hash of the active alarms: field alarm_id, value the alarm as JSON (see alarms.ts, AlarmJson). */
  activeAlarms: 'busway:alarms:v1:active',
} as const;

/** Hash with the last value of one UNS subject; field `type` is double, int, bool, string or null (no value). */
export function lastValueKey(unsSubject: string): string {
  return `busway:lv:v1:${unsSubject}`;
}

/** Hash with the last anomaly score of one UNS subject. */
export function anomalyKey(unsSubject: string): string {
  return `busway:anomaly:v1:${unsSubject}`;
}

/** Marks a cleared alarm (for clearedAlarmTtlMs), so its raise arriving later never makes it active again. */
export function clearedAlarmKey(alarmId: string): string {
  return `busway:alarms:v1:cleared:${alarmId}`;
}

/**
 * Applies one alarm transition atomically; applying it again changes nothing (redelivery). A raise is stored
 * unless its clear came first (out of order, or replayed): a clear leaves a marker, so no ghost alarm stays.
 * KEYS[1] active hash, KEYS[2] cleared marker; ARGV[1] alarm_id, ARGV[2] '1' raise or '0' clear, ARGV[3] the
 * alarm JSON (raise) or the clear time (clear), ARGV[4] marker lifetime in ms.
 * Returns 1: raise stored; 0: raise ignored (already cleared); 2: cleared.
 */
export const APPLY_ALARM_LUA = `
if ARGV[2] == '1' then
  if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
return 2
`;

/**
 * Writes a hash only when the sample is newer than what is stored (timeNs compared as decimal strings:
 * longer is newer, equal length compares lexically), so a late or replayed sample never rolls back.
 * KEYS[1] hash, KEYS[2] index set; ARGV[1] timeNs, then field/value pairs.
 */
export const SET_IF_NEWER_LUA = `
local cur = redis.call('HGET', KEYS[1], 'timeNs')
local t = ARGV[1]
if cur and (#cur > #t or (#cur == #t and cur >= t)) then return 0 end
redis.call('HSET', KEYS[1], 'timeNs', t, unpack(ARGV, 2))
redis.call('SADD', KEYS[2], KEYS[1])
return 1
`;
