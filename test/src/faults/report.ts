// The suite's report: one table row per scenario, the evidence of every failed check, and a JSON file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultResult, ScenarioResult } from './run-scenario.js';
import { FLOW_WORKERS } from './stack.js';

const SHORT_HOPS = ['mqtt', 'norm', 'ord', 'uns', 'e2e'];

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const seconds = (ms: number | undefined) => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);
/** One figure per fault of a run, slash-separated (a combined run injects several). */
const perFault = (r: ScenarioResult, f: (x: FaultResult) => string) => r.faults.map(f).join(' / ') || '-';

/** The human report: a summary table, then each scenario's failed and warned checks with their evidence. */
export function formatReport(results: readonly ScenarioResult[]): string {
  const header = [
    'scenario',
    'result',
    `lost (${SHORT_HOPS.join('/')})`,
    `dup (${SHORT_HOPS.join('/')})`,
    'late',
    'DLQ',
    'recovery',
    'max lag',
    'output gap',
    `peak RSS MB (${FLOW_WORKERS.map((w) => w.replace('ingest-', '')).join('/')})`,
  ];
  const rows = results.map((r) => [
    r.name,
    r.error ? 'ERROR' : r.ok ? 'pass' : 'FAIL',
    r.hops.map((h) => h.lost).join('/') || '-',
    r.hops.map((h) => h.duplicates).join('/') || '-',
    String(r.late),
    String(Object.values(r.deadLetters).reduce((a, b) => a + b, 0)),
    perFault(r, (f) => seconds(f.recovery?.recoveryMs)),
    perFault(r, (f) => seconds(f.recovery?.maxLagMs)),
    perFault(r, (f) => seconds(f.recovery?.outputGapMs)),
    FLOW_WORKERS.map((w) => String(Math.round(r.peakRssMb[w] ?? 0))).join('/'),
  ]);
  const lines = [table([header, ...rows]), ''];
  for (const r of results) {
    const bad = r.checks.filter((c) => !c.ok);
    if (bad.length === 0 && !r.error) continue;
    lines.push(`${r.name}: ${r.title}`);
    if (r.error) lines.push(`  ERROR ${r.error.split('\n')[0]}`);
    for (const c of bad) lines.push(`  ${c.severity === 'warn' ? 'warn' : 'FAIL'} ${c.name}: ${c.detail}`);
    for (const f of r.faults) for (const n of f.notes) lines.push(`  note (${f.name}): ${n}`);
    lines.push(`  logs: ${r.logDir}`);
  }
  return lines.join('\n');
}

/** Writes `<dir>/faults-<time>.json` and `<dir>/latest.json`; returns the first path. */
export function writeReport(
  dir: string,
  results: readonly ScenarioResult[],
  meta: Record<string, unknown>,
): string {
  mkdirSync(dir, { recursive: true });
  const body = JSON.stringify({ ...meta, finishedAt: new Date().toISOString(), results }, null, 2);
  const path = join(dir, `faults-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, body);
  writeFileSync(join(dir, 'latest.json'), body);
  return path;
}
