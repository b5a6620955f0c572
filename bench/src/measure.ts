/** Samples per second of `step` over `messages`, run for about `ms` after a warm-up. */
export function throughput(
  messages: Uint8Array[],
  samplesPerMessage: number,
  ms: number,
  step: (m: Uint8Array) => void,
): number {
  const deadline = performance.now() + ms;
  let done = 0;
  const start = performance.now();
  while (performance.now() < deadline) {
    for (let i = 0; i < 64; i++) step(messages[(done + i) % messages.length] as Uint8Array);
    done += 64;
  }
  return (done * samplesPerMessage) / ((performance.now() - start) / 1000);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** Nearest-rank percentile (`q` in 0..1) of values already sorted ascending; NaN when there are none. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** p50, p99 and max of unsorted values (from a sorted copy). */
export function latencySummary(values: ArrayLike<number>): LatencySummary {
  const s = Float64Array.from(values).sort();
  return {
    count: s.length,
    p50: percentile(s, 0.5),
    p99: percentile(s, 0.99),
    max: s[s.length - 1] ?? Number.NaN,
  };
}

/** value / baseline, undefined when the baseline is not a positive number (no ratio to report). */
export const ratioOf = (value: number, baseline: number): number | undefined =>
  baseline > 0 && Number.isFinite(value) ? value / baseline : undefined;

/** A cumulative count read at a time (ms). */
export interface CountAt {
  tMs: number;
  count: number;
}

/** When a cumulative series first reaches `target`, linearly interpolated between readings; undefined if never. */
function timeAt(series: CountAt[], target: number): number | undefined {
  for (let i = 0; i < series.length; i++) {
    const cur = series[i] as CountAt;
    if (cur.count < target) continue;
    const prev = series[i - 1];
    if (!prev || cur.count === prev.count) return cur.tMs;
    return prev.tMs + ((target - prev.count) / (cur.count - prev.count)) * (cur.tMs - prev.tMs);
  }
  return undefined;
}

/**
 * Steady rate (per second) of a cumulative count between the moments it reached `lo` and `hi` of `total`:
 * leaves out start-up (processes starting, consumers filling) and the tail (a held-back end), which a
 * total divided by the whole duration would mix in. Undefined when the series never reaches `hi`.
 */
export function windowRate(series: CountAt[], total: number, lo: number, hi: number): number | undefined {
  const t0 = timeAt(series, lo * total);
  const t1 = timeAt(series, hi * total);
  if (t0 === undefined || t1 === undefined || t1 <= t0) return undefined;
  return ((hi - lo) * total) / ((t1 - t0) / 1000);
}

/**
 * How fast a lag grows (y units per x unit), from the lowest reading of each half of the run: a system that
 * keeps up comes back to its floor after a pause (a stalled pull, a GC), one that falls behind never does,
 * so a pause inside the run does not read as falling behind. 0 with fewer than two readings.
 */
export function lagGrowth(points: { x: number; y: number }[]): number {
  if (points.length < 2) return 0;
  const mid = Math.floor(points.length / 2);
  const low = (ps: { x: number; y: number }[]) => ps.reduce((a, p) => (p.y < a.y ? p : a));
  const first = low(points.slice(0, mid));
  const second = low(points.slice(mid));
  return second.x === first.x ? 0 : (second.y - first.y) / (second.x - first.x);
}

/** A `/proc/<pid>/status` field in kB (VmHWM: peak resident set; VmRSS: now) as MB; undefined off Linux. */
export function procStatusMb(status: string, field: 'VmHWM' | 'VmRSS'): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return m ? Number(m[1]) / 1024 : undefined;
}
