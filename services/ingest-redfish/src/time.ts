// Redfish timestamps: RFC 3339 / ISO 8601 with an offset and up to nanosecond fractions, as BMCs really send them.
import { parseRfc3339Ns } from '@busway/proto';

/**
 * Nanoseconds since the Unix epoch (UTC) of a Redfish timestamp, or undefined when it is not one. The offset
 * (`-05:00`, `+0100`, `+01`, `Z`) is applied and the fraction kept to the nanosecond (digits past the ninth are
 * dropped). Times before the epoch are refused: the wire time (uint64 ns) starts there.
 */
export function parseRedfishTime(text: string): bigint | undefined {
  const ns = parseRfc3339Ns(text, { lenient: true });
  return ns === undefined || ns < 0n ? undefined : ns;
}
