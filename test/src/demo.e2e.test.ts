import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { DemoReport } from '@busway/cli';
import { ROOT } from './helm.js';

const SOURCES = [
  'sparkplug-decode', // the Sparkplug host's samples: its bridge stores the messages, this stage decodes them
  'ingest-dsx',
  'ingest-redfish',
  'ingest-dcgm',
  'ingest-scheduler',
  'ingest-openadr',
];

// The README's first command, as a newcomer runs it: on the local stack (NATS, Redis and Mosquitto on their
// usual ports, which the test command's bootstrap brings up), every worker and source its own process.
describe('busway demo', () => {
  it('carries every simulated source through every stage, with no dead letter', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'busway-demo-')); // its logs and ground truth land here
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [join(ROOT, 'packages', 'cli', 'dist', 'bin.js'), 'demo', '--duration', '30s', '--json'],
        { cwd, env: { ...process.env, BUSWAY_LOG_LEVEL: 'warn' }, timeout: 300_000, maxBuffer: 64 << 20 },
      );
      const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as DemoReport;
      for (const stage of ['ingest', 'normalize', 'correlate', 'anomaly', 'fanout'])
        assert.ok(
          (report.stages[stage]?.samplesOut ?? 0) > 0,
          `${stage}: ${JSON.stringify(report.stages[stage])}`,
        );
      for (const source of SOURCES)
        assert.ok(
          (report.sources[source] ?? 0) > 0,
          `${source} published: ${JSON.stringify(report.sources)}`,
        );
      assert.ok(report.simulator.samplesOut > 0);
      assert.equal(report.dlq, 0, 'no dead letter');
      // nothing lost between the first hops (more is fine: the shared stack may hold an earlier run's backlog)
      const [ingest, normalize, correlate] = ['ingest', 'normalize', 'correlate'].map(
        (s) => report.stages[s],
      );
      assert.ok((normalize?.samplesIn ?? 0) >= (ingest?.samplesOut ?? 1), JSON.stringify(report.stages));
      assert.ok(report.events > 0, 'the scheduler and the VTN sent events');
      // the correlator's incidents reach the demo's watcher (grid answers come within seconds, job chains in ~35 s)
      const incidents = Object.values(report.incidents.byKind).reduce((a, b) => a + b, 0);
      assert.ok(incidents > 0, `incidents seen: ${JSON.stringify(report.incidents)}`);
      assert.equal(report.incidents.byKind.undecodable, undefined, 'every incident decodes');
      for (const line of report.incidents.examples) assert.match(line, / after -?\d+\.\d\d( ± \d+\.\d\d)? s/);
      assert.ok(
        (correlate?.samplesIn ?? 0) + report.events >= (normalize?.samplesOut ?? 1),
        `correlate in + events against normalize out: ${JSON.stringify(report)}`,
      );
      // the IT bridges stop before the simulator that serves their sources: none warns of a source gone
      for (const bridge of ['ingest-openadr', 'ingest-scheduler', 'ingest-redfish', 'ingest-dcgm']) {
        const log = readFileSync(join(cwd, '.busway', 'demo', 'logs', `${bridge}.log`), 'utf8');
        const refused = log.split('\n').filter((line) => line.includes('ECONNREFUSED'));
        assert.deepEqual(refused, [], `${bridge} found its source gone`);
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
