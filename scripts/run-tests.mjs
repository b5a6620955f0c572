// Runs every compiled test file of every workspace with node's test runner, as one run with one summary.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const unitOnly = process.argv.includes('--no-integration');

function findTests(dir, out = []) {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (entry.endsWith('.test.js') && path.includes('/dist/')) out.push(path);
  }
  return out;
}

const roots = ['proto', 'packages', 'services', 'test'].map((d) => join(root, d));
let files = roots.flatMap((d) => findTests(d)).sort();
if (unitOnly) files = files.filter((f) => !/integration|e2e/.test(f));
if (files.length === 0) {
  process.stderr.write('no test files found: did the build run?\n');
  process.exit(1);
}
process.stderr.write(`running ${files.length} test files\n`);
const result = spawnSync(
  process.execPath,
  // --test-force-exit: a file whose test timed out ends with it, though what it started still holds its process
  [
    '--test',
    '--test-reporter=spec',
    '--test-concurrency=2',
    '--test-force-exit',
    ...files.map((f) => relative(root, f)),
  ],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, BUSWAY_LOG_LEVEL: process.env.BUSWAY_LOG_LEVEL ?? 'warn' },
  },
);
process.exit(result.status ?? 1);
