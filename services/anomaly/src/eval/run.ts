// `node services/anomaly/dist/eval/run.js [--quick] [--nab <dir>] [--out <file>]`: scores the detectors on
// labelled streams and prints precision, recall, time to detect and the NAB-style score per dataset and type.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineDetector } from './detectors.js';
import { evaluate, type Summary } from './evaluate.js';
import { Families, syntheticDataset } from './generators.js';
import { loadNabCorpus } from './nab-format.js';
import { simDataset } from './sim-stream.js';
import type { Dataset } from './types.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const seeds = Number(flag('--seeds') ?? (quick ? 1 : 3));
const simMinutes = Number(flag('--sim-minutes') ?? (quick ? 30 : 120));
const out = resolve(
  flag('--out') ?? join(dirname(fileURLToPath(import.meta.url)), '../../eval-results/latest.json'),
);

const datasets: Dataset[] = [];
for (let s = 1; s <= seeds; s++) datasets.push(simDataset({ seed: s, durationMs: simMinutes * 60_000 }));
for (const family of Object.keys(Families))
  for (let s = 1; s <= seeds; s++) datasets.push(syntheticDataset(family, s));
const nabDir = flag('--nab');
if (nabDir) datasets.push(...loadNabCorpus(nabDir));

const started = performance.now();
const summary = evaluate(engineDetector(), datasets);
const seconds = (performance.now() - started) / 1000;

const pct = (v: number | null) => (v === null ? '-' : `${(100 * v).toFixed(0)}%`);
const nab = (v: number | null) => (v === null ? '-' : v.toFixed(1));
const dur = (ms: number | null) =>
  ms === null ? '-' : ms < 120_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 60_000).toFixed(1)} min`;
const table = (head: string[], rows: string[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

function print(s: Summary): string {
  const o = s.overall;
  return [
    `## Anomaly detection: ${s.detector}, ${s.datasets.length} labelled datasets, ${s.datasets.reduce((n, d) => n + d.samples, 0).toLocaleString('en-US')} samples scored in ${seconds.toFixed(1)} s`,
    '',
    `Overall: NAB-style score ${nab(o.nabNormalized)} (standard profile; 100 perfect, 0 = never detects), precision ${pct(o.precision)}, recall ${pct(o.recall)}, F1 ${pct(o.f1)}, ${o.falsePositives} false alarms, ${o.windows} labelled windows.`,
    '',
    '### Per family',
    table(
      ['family', 'NAB score', 'precision', 'recall', 'false alarms', 'windows'],
      Object.entries(s.families).map(([f, r]) => [
        f,
        nab(r.nabNormalized),
        pct(r.precision),
        pct(r.recall),
        String(r.falsePositives),
        String(r.windows),
      ]),
    ),
    '',
    '### Per fault / anomaly type',
    table(
      ['type', 'windows', 'detected', 'recall', 'median time to detect', 'mean time to detect'],
      Object.entries(s.types).map(([t, r]) => [
        t,
        String(r.windows),
        String(r.detected),
        pct(r.recall),
        dur(r.medianTimeToDetectMs),
        dur(r.meanTimeToDetectMs),
      ]),
    ),
    '',
    '### Per dataset',
    table(
      ['dataset', 'samples', 'NAB score', 'precision', 'recall', 'false alarms', 'detections by label'],
      s.datasets.map((d) => [
        d.dataset,
        d.samples.toLocaleString('en-US'),
        nab(d.report.nabNormalized),
        pct(d.report.precision),
        pct(d.report.recall),
        String(d.report.falsePositives),
        Object.entries(d.labels)
          .map(([l, n]) => `${l} ${n}`)
          .join(', '),
      ]),
    ),
  ].join('\n');
}

process.stdout.write(`${print(summary)}\n`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify({ generatedAt: new Date().toISOString(), seeds, simMinutes, ...summary }, null, 2),
);
process.stdout.write(`\nwritten: ${out}\n`);
