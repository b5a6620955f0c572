// `npm run test:faults`: every fault scenario on its own fresh stack, a table, a JSON report; exit 1 on a failure.
//   node test/dist/faults/run.js [--only a,b] [--quick] [--list] [--seed N] [--out dir] [--rss-limit-mb N]
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { selectScenarios } from './catalog.js';
import { FAULTS_PLANT } from './plant.js';
import { formatReport, writeReport } from './report.js';
import { runScenario, type ScenarioResult } from './run-scenario.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    seed: { type: 'string', default: '7' },
    out: { type: 'string' },
    'rss-limit-mb': { type: 'string', default: '512' },
  },
});

const scenarios = selectScenarios(
  values.only ? values.only.split(',').map((s) => s.trim()) : [],
  values.quick,
);
if (values.list) {
  for (const s of scenarios) console.log(`${s.name.padEnd(22)} ${s.quick ? 'quick ' : '      '}${s.title}`);
  process.exit(0);
}
// The CLI Supervisor pipes a worker's stdout and stderr into one log file with { end: true }: when a worker dies
// at start, the second pipe can write after the first ended it. Only that is survived here (reported upstream).
process.on('uncaughtException', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'ERR_STREAM_WRITE_AFTER_END') throw err;
  console.error(`ignored: a worker log written after its end (${err.message})`);
});
const outDir = values.out ?? fileURLToPath(new URL('../../../.busway/faults/', import.meta.url));
const seed = Number(values.seed);
const started = Date.now();
const results: ScenarioResult[] = [];
for (const sc of scenarios) {
  console.log(`\n=== ${sc.name}: ${sc.title}`);
  const r = await runScenario(sc, {
    outDir,
    seed,
    simulatorEnv: FAULTS_PLANT,
    rssLimitMb: Number(values['rss-limit-mb']),
    log: (line) => console.log(`${new Date().toISOString().slice(11, 23)} ${line}`),
  });
  results.push(r);
  console.log(
    `=== ${sc.name}: ${r.error ? 'ERROR' : r.ok ? 'pass' : 'FAIL'} in ${(r.durationMs / 1000).toFixed(0)} s`,
  );
}
console.log(`\n${formatReport(results)}`);
const path = writeReport(outDir, results, { seed, plant: FAULTS_PLANT, wallTimeMs: Date.now() - started });
console.log(`\nreport: ${path} (wall time ${((Date.now() - started) / 60_000).toFixed(1)} min)`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
