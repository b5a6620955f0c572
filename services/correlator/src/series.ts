/** Recent samples of one watched series, oldest first: plain data, so a checkpoint is its JSON. */
export interface SeriesData {
  asset: string;
  metric: string;
  t: number[];
  v: number[];
}

/** Appends a sample in event-time order and forgets what is older than `keepMs` before it. */
export function pushSample(s: SeriesData, t: number, v: number, keepMs: number): void {
  s.t.push(t);
  s.v.push(v);
  const limit = t - keepMs;
  let drop = 0;
  while (drop < s.t.length - 1 && (s.t[drop] as number) < limit) drop++;
  // splice in chunks: cheap amortized, and the arrays stay plain for JSON
  if (drop > 32 || (drop > 0 && drop * 4 > s.t.length)) {
    s.t.splice(0, drop);
    s.v.splice(0, drop);
  }
}

/** Index of the first sample at or after `t` (binary search). */
export function indexAtOrAfter(s: SeriesData, t: number): number {
  let lo = 0;
  let hi = s.t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((s.t[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The samples with from <= t <= to. */
export function window(s: SeriesData, from: number, to: number): { t: number[]; v: number[] } {
  const a = indexAtOrAfter(s, from);
  let b = a;
  while (b < s.t.length && (s.t[b] as number) <= to) b++;
  return { t: s.t.slice(a, b), v: s.v.slice(a, b) };
}

export function mean(xs: readonly number[]): number {
  let sum = 0;
  for (const x of xs) sum += x;
  return xs.length ? sum / xs.length : Number.NaN;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0
    ? Number.NaN
    : s.length % 2
      ? (s[mid] as number)
      : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Standard deviation of a time known only to lie somewhere in an interval this wide (uniform: width/√12). */
export function uniformSd(widthMs: number): number {
  return widthMs / Math.sqrt(12);
}
