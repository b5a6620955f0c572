import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Supervisor } from './supervisor.js';

describe('the supervisor', () => {
  it('restarts a worker that exits before it is ready, and gives up after three exits with its log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'busway-supervisor-'));
    const events: string[] = [];
    const sup = new Supervisor(process.env, dir, (line) => events.push(line));
    try {
      await sup.start('no-such-worker'); // exits at once, every time
      await assert.rejects(sup.waitReady(20_000), (err: Error) => {
        assert.match(err.message, /no-such-worker exited 3 times before it was ready/);
        assert.match(err.message, /unknown worker 'no-such-worker'/, 'the end of its log');
        return true;
      });
      assert.ok(events.filter((e) => e.includes('restarting')).length >= 3, events.join('\n'));
    } finally {
      await sup.stopAll([]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
