// OpenADR 3 time: RFC 3339 date-times and ISO 8601 durations (the document's `dateTime` and `duration`),
// computed exactly in nanoseconds since the Unix epoch (bigint), with calendar years and months in UTC.
import { daysInMonth, parseRfc3339Ns } from '@busway/proto';

/** The document's duration pattern, verbatim: what it accepts is what this module parses. */
const DURATION =
  /^(-?)P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;
/** Calendar arithmetic stays inside what Date represents (±273,790 years around 1970). */
const MAX_DATE_MS = 8.64e15;

/** A parsed ISO 8601 duration: calendar parts (years, months) apart from fixed ones. */
export interface IsoDuration {
  negative: boolean;
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  /** Seconds with their fraction, exact to the nanosecond (digits beyond nine are dropped). */
  secondsNs: bigint;
}

/** The duration, or undefined when the text is not one the document's pattern accepts. */
export function parseDuration(text: string): IsoDuration | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s));
  const [whole = '0', frac = ''] = (m[8] ?? '0').split('.');
  const secondsNs = BigInt(whole) * NS_PER_S + BigInt((frac + '000000000').slice(0, 9));
  const parts = {
    negative: m[1] === '-',
    years: n(m[2]),
    months: n(m[3]),
    weeks: m[5] === 'W' ? n(m[4]) : 0,
    days: m[5] === 'D' ? n(m[4]) : 0,
    hours: n(m[6]),
    minutes: n(m[7]),
    secondsNs,
  };
  // digits beyond what a double holds exactly are no real duration
  const counts = [parts.years, parts.months, parts.weeks, parts.days, parts.hours, parts.minutes];
  return counts.every(Number.isSafeInteger) ? parts : undefined;
}

/** The document's "P9999Y may indicate infinity": open-ended. */
export function isOpenEnded(d: IsoDuration): boolean {
  return !d.negative && d.years >= 9999;
}

/**
 * `start + d` in ns. Years and months move the calendar date in UTC (Jan 31 + P1M is the last day of
 * February, as in XML Schema); weeks, days, hours, minutes and seconds are fixed lengths (UTC has no DST).
 * undefined when the result leaves the range Date can represent.
 */
export function addDuration(startNs: bigint, d: IsoDuration): bigint | undefined {
  const sign = d.negative ? -1 : 1;
  const startMs = Number(floorDiv(startNs, NS_PER_MS));
  const subMsNs = startNs - BigInt(startMs) * NS_PER_MS;
  let calendarMs = startMs;
  if (d.years !== 0 || d.months !== 0) {
    const date = new Date(startMs);
    if (Number.isNaN(date.getTime())) return undefined;
    const totalMonths = date.getUTCFullYear() * 12 + date.getUTCMonth() + sign * (d.years * 12 + d.months);
    if (!Number.isSafeInteger(totalMonths)) return undefined;
    const year = Math.floor(totalMonths / 12);
    const month0 = totalMonths - year * 12;
    const day = Math.min(date.getUTCDate(), daysInMonth(year, month0));
    const moved = new Date(0);
    moved.setUTCFullYear(year, month0, day); // setUTCFullYear: years 0..99 are not taken for 1900..1999
    moved.setUTCHours(
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
      date.getUTCMilliseconds(),
    );
    calendarMs = moved.getTime();
  }
  if (!Number.isFinite(calendarMs) || Math.abs(calendarMs) > MAX_DATE_MS) return undefined;
  const fixedS = BigInt(((d.weeks * 7 + d.days) * 24 + d.hours) * 60 + d.minutes) * 60n;
  const fixedNs = fixedS * NS_PER_S + d.secondsNs;
  const endNs = BigInt(calendarMs) * NS_PER_MS + subMsNs + BigInt(sign) * fixedNs;
  return endNs > BigInt(MAX_DATE_MS) * NS_PER_MS || endNs < -BigInt(MAX_DATE_MS) * NS_PER_MS
    ? undefined
    : endNs;
}

const floorDiv = (a: bigint, b: bigint) => (a >= 0n ? a / b : -((-a + b - 1n) / b));

/** What a start of "0001-01-01" stands for: the document's "may indicate now". */
export const NOW_START = 'now';

/**
 * An RFC 3339 date-time in ns since the epoch (fraction kept to the nanosecond), `NOW_START` for the
 * document's "0001-01-01" (with or without a time of day), undefined when it is not a valid date-time.
 */
export function parseDateTime(text: string): bigint | typeof NOW_START | undefined {
  if (/^0001-01-01([Tt ]00:00:00(\.0+)?([Zz]|[+-]00:00)?)?$/.test(text)) return NOW_START;
  return parseRfc3339Ns(text);
}

/** ns since the epoch as RFC 3339 in UTC with millisecond precision (what the VTN's examples use). */
export function formatDateTime(ns: bigint): string {
  return new Date(Number(floorDiv(ns, NS_PER_MS))).toISOString();
}

/** Milliseconds since the epoch (the fraction below a millisecond dropped). */
export const msOf = (ns: bigint): number => Number(floorDiv(ns, NS_PER_MS));
export const nsOfMs = (ms: number): bigint => BigInt(Math.floor(ms)) * NS_PER_MS;
