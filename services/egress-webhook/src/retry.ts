import { backoffMs } from '@busway/runtime';

/** How one delivery attempt ended, as far as retrying goes. */
export type AttemptResult =
  | { kind: 'delivered'; status: number }
  /** Worth another try later (timeout, connection refused, 408, 425, 429, 5xx). */
  | { kind: 'retryable'; code: string; message: string; retryAfterMs?: number }
  /** Will fail the same way every time (400, 401, 404, 413, ...): dead-letter at once. */
  | { kind: 'permanent'; code: string; message: string };

/** Statuses that say "not now" rather than "never". */
const RETRYABLE_STATUS = new Set([408, 425, 429]);

export function classifyStatus(status: number, retryAfter: string | null, nowMs: number): AttemptResult {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  const code = `http-${status}`;
  if (status >= 500 || RETRYABLE_STATUS.has(status)) {
    const retryAfterMs = parseRetryAfter(retryAfter, nowMs);
    return {
      kind: 'retryable',
      code,
      message: `HTTP ${status}`,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  return { kind: 'permanent', code, message: `HTTP ${status}` };
}

/**
 * Retry-After (RFC 9110 §10.2.3) in ms from now: delay-seconds or an HTTP-date; undefined when absent or
 * unreadable. A date in the past is 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[a-z]/i.test(v)) return undefined; // "1.5", "-3": neither form
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * The wait before attempt `attempt + 1` after `attempt` failed ones: exponential from initialMs, capped at maxMs,
 * with "equal jitter" (half fixed, half random) so that retries of many messages do not arrive in lockstep.
 * `random` is in [0, 1).
 */
export function retryDelayMs(attempt: number, initialMs: number, maxMs: number, random: number): number {
  const ceiling = backoffMs(attempt, initialMs, maxMs);
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/** A Retry-After the endpoint asked for wins over the backoff, up to maxRetryAfterMs. */
export function nextDelayMs(
  result: { retryAfterMs?: number },
  attempt: number,
  policy: { initialBackoffMs: number; maxBackoffMs: number; maxRetryAfterMs: number },
  random: number,
): number {
  if (result.retryAfterMs !== undefined) return Math.min(result.retryAfterMs, policy.maxRetryAfterMs);
  return retryDelayMs(attempt, policy.initialBackoffMs, policy.maxBackoffMs, random);
}
