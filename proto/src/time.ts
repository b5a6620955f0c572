import Long from 'long';

const NS_PER_MS = 1_000_000;

/** Nanoseconds since the Unix epoch from (possibly fractional) milliseconds. */
export function timeNsFromMs(ms: number): Long {
  const whole = Math.floor(ms);
  const fracNs = Math.round((ms - whole) * NS_PER_MS);
  return Long.fromNumber(whole, true).multiply(NS_PER_MS).add(fracNs);
}

/** Nanoseconds since the Unix epoch from a bigint (exact). */
export function timeNsFromBigInt(ns: bigint): Long {
  return Long.fromString(ns.toString(), true);
}

/** Milliseconds from nanoseconds since the epoch: whole ms exact, the fraction to ~0.25 µs. */
export function msFromTimeNs(ns: Long | number | null | undefined): number {
  if (ns == null) return 0;
  if (typeof ns === 'number') return ns / NS_PER_MS;
  return msFromNsBits(ns.low, ns.high);
}

/** `msFromTimeNs` of a uint64 given as its two 32-bit halves (as a wire scanner reads a fixed64). */
export function msFromNsBits(low: number, high: number): number {
  // hi·2^32 = hi·4294·10^6 + hi·967296: split so every intermediate stays below 2^53
  const hi = high >>> 0;
  const rest = hi * 967_296 + (low >>> 0);
  return hi * 4294 + Math.floor(rest / NS_PER_MS) + (rest % NS_PER_MS) / NS_PER_MS;
}

/** Exact nanoseconds as a bigint. */
export function bigIntFromTimeNs(ns: Long | number | bigint | null | undefined): bigint {
  if (ns == null) return 0n;
  if (typeof ns === 'bigint') return ns;
  if (typeof ns === 'number') return BigInt(Math.round(ns));
  return (BigInt(ns.high >>> 0) << 32n) | BigInt(ns.low >>> 0);
}

/** Now, in nanoseconds since the epoch (wall clock, sub-ms from the monotonic clock). */
export function nowNs(): Long {
  return timeNsFromMs(performance.timeOrigin + performance.now());
}

/** RFC 3339 with nine fractional digits, UTC: 2026-11-22T10:00:00.123456789Z. */
export function rfc3339Nano(ns: Long | number | bigint | null | undefined): string {
  const total = bigIntFromTimeNs(ns);
  const seconds = total / 1_000_000_000n;
  const frac = (total % 1_000_000_000n).toString().padStart(9, '0');
  const iso = new Date(Number(seconds) * 1000).toISOString(); // 2026-11-22T10:00:00.000Z
  return `${iso.slice(0, 19)}.${frac}Z`;
}

// Group layout of both: 1-6 date and time, 7 fraction digits, 8 Z, 9 offset sign, 10 hours, 11 minutes.
const RFC3339_STRICT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const RFC3339_LENIENT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in a month (0-based) of a proleptic Gregorian year. */
export const daysInMonth = (year: number, month0: number): number =>
  month0 === 1 && isLeapYear(year) ? 29 : (MONTH_DAYS[month0] ?? 31);

/**
 * An RFC 3339 date-time in nanoseconds since the Unix epoch (negative before it), or undefined when it is not
 * one. The offset is applied and the fraction kept to the nanosecond (digits past the ninth are dropped); a
 * leap second (`:60`) counts as the next second's start. `lenient` also takes what devices send besides the
 * standard: `+0100` and `+01` offsets, a comma before the fraction, spaces around the text and before the zone.
 */
export function parseRfc3339Ns(text: string, opts: { lenient?: boolean } = {}): bigint | undefined {
  const m = opts.lenient ? RFC3339_LENIENT.exec(text.trim()) : RFC3339_STRICT.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month - 1)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  let offsetMin = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11] ?? 0);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // setUTCFullYear: years 0..99 are not taken for 1900..1999
  date.setUTCHours(hour, minute, second, 0);
  const fractionNs = BigInt((m[7] ?? '').slice(0, 9).padEnd(9, '0'));
  return (BigInt(date.getTime()) - BigInt(offsetMin) * 60_000n) * 1_000_000n + fractionNs;
}
