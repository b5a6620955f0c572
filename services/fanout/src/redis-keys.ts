/** Redis keys that fan-out writes and the CLI and APIs read, version 1. */
export const RedisKeys = {
  /** Set of UNS subjects that have a last value. */
  lastValueIndex: 'busway:lv:v1:index',
  /** List of the latest incidents, newest first (JSON). */
  incidents: 'busway:incidents:v1',
  /** Set of anomaly-score hash keys (anomalyKey), so readers can match them by pattern. */
  anomalyIndex: 'busway:anomaly:v1:index',
} as const;

/** Hash with the last value of one UNS subject. */
export function lastValueKey(unsSubject: string): string {
  return `busway:lv:v1:${unsSubject}`;
}

/** Hash with the last anomaly score of one UNS subject. */
export function anomalyKey(unsSubject: string): string {
  return `busway:anomaly:v1:${unsSubject}`;
}

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
