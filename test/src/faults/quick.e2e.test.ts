import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { killWorker, natsNodeKill } from './process-faults.js';
import { poison } from './poison.js';
import { formatReport } from './report.js';
import { runFaults } from './run-scenario.js';
import { FAULTS_PLANT } from './plant.js';

// The quick subset of `npm run test:faults`: three faults in a row on one stack, so it fits the normal suite.
describe('faults, quick: poison, a worker killed mid-batch and a NATS node killed, on a 3-node cluster with R3 streams', () => {
  // about 80 s; once in six full runs it hung at stack-up (servers started, no stream made): fail instead
  it(
    'loses no sample and duplicates none at any stage, dead-letters exactly the poison, and recovers from each fault',
    { timeout: 600_000 },
    async () => {
      const result = await runFaults(
        'quick',
        'poison, kill -9 normalizer, kill -9 and restart a NATS node',
        [poison(), killWorker('normalizer'), natsNodeKill(5000)],
        {
          outDir: mkdtempSync(join(tmpdir(), 'busway-faults-quick-')),
          seed: 7,
          simulatorEnv: FAULTS_PLANT,
          warmupMs: 5000,
          observeMs: 6000,
          log: (line) => console.log(line),
        },
      );
      console.log(formatReport([result]));
      assert.equal(result.error, undefined, result.error);
      const failed = result.checks.filter((c) => !c.ok && c.severity !== 'warn');
      assert.deepEqual(
        failed.map((c) => `${c.name}: ${c.detail}`),
        [],
        `logs: ${result.logDir}`,
      );
      assert.ok((result.hops.at(-1)?.expected ?? 0) > 500, 'the simulator produced a real stream');
    },
  );
});
