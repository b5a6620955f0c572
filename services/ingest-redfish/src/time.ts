// Redfish timestamps: RFC 3339 / ISO 8601 with an offset and up to nanosecond fractions, as BMCs really send them.

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Nanoseconds since the Unix epoch (UTC) of a Redfish timestamp, or undefined when it is not one. The offset
 * (`-05:00`, `+0100`, `+01`, `Z`) is applied and the fraction kept to the nanosecond (digits past the ninth are
 * dropped). Times before the epoch are refused. A leap second (`:60`) counts as the next second's start, as Date.UTC does.
 */
export function parseRedfishTime(text: string): bigint | undefined {
  const m = RFC3339.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > (DAYS_IN_MONTH[month - 1] ?? 0)) return undefined;
  if (month === 2 && day === 29 && !isLeapYear(year)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  let offsetMin = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11] ?? 0);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMin * 60_000;
  if (year < 1970 || ms < 0) return undefined; // the wire time (uint64 ns) starts at the epoch
  const fractionNs = BigInt((m[7] ?? '').slice(0, 9).padEnd(9, '0'));
  return BigInt(ms) * 1_000_000n + fractionNs;
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}
