// The benchmarks' markdown table: one row per measure, its same-run baseline, ratio and target.
import type { BenchRow } from './normalizer.bench.js';

const fmt = (v: number) => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));

export function markdown(title: string, rows: BenchRow[]): string {
  const lines = [
    `### ${title}`,
    '',
    '| measure | value | baseline (same run) | ratio | target | met |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${fmt(r.value)} ${r.unit} | ${r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)}` : ''} | ${r.ratio === undefined ? '' : r.ratio.toFixed(2)} | ${r.target ?? ''} | ${r.pass === undefined ? '' : r.pass ? 'yes' : 'NO'} |`,
    ),
  ];
  return lines.join('\n');
}
