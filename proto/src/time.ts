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
  // hi·2^32 = hi·4294·10^6 + hi·967296: split so every intermediate stays below 2^53
  const hi = ns.high >>> 0;
  const rest = hi * 967_296 + (ns.low >>> 0);
  return hi * 4294 + Math.floor(rest / NS_PER_MS) + (rest % NS_PER_MS) / NS_PER_MS;
}

/** Exact nanoseconds as a bigint. */
export function bigIntFromTimeNs(ns: Long | number | null | undefined): bigint {
  if (ns == null) return 0n;
  if (typeof ns === 'number') return BigInt(Math.round(ns));
  return (BigInt(ns.high >>> 0) << 32n) | BigInt(ns.low >>> 0);
}

/** Now, in nanoseconds since the epoch (wall clock, sub-ms from the monotonic clock). */
export function nowNs(): Long {
  return timeNsFromMs(performance.timeOrigin + performance.now());
}

/** RFC 3339 with nine fractional digits, UTC: 2026-11-22T10:00:00.123456789Z. */
export function rfc3339Nano(ns: Long | number | null | undefined): string {
  const total = bigIntFromTimeNs(ns);
  const seconds = total / 1_000_000_000n;
  const frac = (total % 1_000_000_000n).toString().padStart(9, '0');
  const iso = new Date(Number(seconds) * 1000).toISOString(); // 2026-11-22T10:00:00.000Z
  return `${iso.slice(0, 19)}.${frac}Z`;
}
