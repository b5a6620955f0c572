const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "30s", "2m", "1500ms", "45" (seconds) -> milliseconds. */
export function parseDurationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration '${text}': expected e.g. 30s, 2m, 1500ms`);
  return Math.round(Number(m[1]) * (UNITS_MS[m[2] ?? 's'] ?? 1000));
}
