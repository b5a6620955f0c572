#!/usr/bin/env node
// Writes every file generated from the access table (packages/runtime/src/nats-access.ts): the nats-server users,
// the nsc commands for operator (JWT) mode, and the Helm chart's worker table. Run after `npx tsc -b packages/runtime`.
// `--check` writes nothing and exits 1 when a file is stale (test/src/nats-access.test.ts does the same).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderChartAccess, renderNatsUsers, renderNscScript } from '@busway/runtime';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every generated file, by path from the repository root. */
export const GENERATED = {
  'deploy/nats/busway-users.conf': renderNatsUsers(),
  'deploy/nats/nsc-users.sh': renderNscScript(),
  'deploy/helm/busway/files/access.yaml': renderChartAccess(),
};

const check = process.argv.includes('--check');
let stale = 0;
for (const [path, text] of Object.entries(GENERATED)) {
  const file = join(root, path);
  let current;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) continue;
  if (check) {
    process.stderr.write(`stale: ${relative(process.cwd(), file)}\n`);
    stale++;
  } else {
    writeFileSync(file, text, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
    process.stdout.write(`wrote ${path}\n`);
  }
}
process.exit(stale > 0 ? 1 : 0);
