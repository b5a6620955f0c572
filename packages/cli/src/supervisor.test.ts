import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startNats } from '@busway/testkit';
import { Supervisor } from './supervisor.js';

describe('the supervisor', () => {
  it('finds the health port a worker bound itself (none is picked for it to race for), and keeps a retired one’s counts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'busway-supervisor-'));
    const nats = await startNats();
    const sup = new Supervisor({ ...process.env, NATS_URL: nats.url, BUSWAY_LOG_LEVEL: 'warn' }, dir);
    try {
      await sup.start('fanout');
      await sup.waitReady(20_000);
      const port = Number(readFileSync(join(dir, 'fanout.port'), 'utf8'));
      assert.ok(port > 0, 'the worker wrote the port it bound');
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
      const samples = await sup.scrape();
      assert.ok(
        samples.some((s) => s.name === 'busway_worker_ready'),
        'its metrics, read through that port',
      );
      // retired: stopped, and its last counts still reported
      await sup.retire('fanout');
      assert.equal(sup.pid('fanout'), undefined);
      const kept = (await sup.scrape()).filter((s) => s.name === 'busway_worker_ready');
      assert.deepEqual(
        kept.map((s) => s.labels.worker),
        ['fanout'],
      );
    } finally {
      await sup.stopAll([]);
      await nats.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

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

  it('restarts no worker that exits while all are being stopped, as on a Ctrl-C that reaches each of them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'busway-supervisor-'));
    const nats = await startNats();
    const events: string[] = [];
    const sup = new Supervisor(
      { ...process.env, NATS_URL: nats.url, BUSWAY_LOG_LEVEL: 'warn' },
      dir,
      (line) => events.push(line),
    );
    try {
      await sup.start('fanout');
      await sup.start('history');
      await sup.waitReady(20_000);
      const history = sup.pid('history') as number;
      const stopping = sup.stopAll(['fanout', 'history']);
      process.kill(history, 'SIGKILL'); // dies while fan-out is still draining, before its own turn
      await stopping;
      assert.deepEqual(events, [], 'no exit reported, nothing restarted');
      await new Promise((r) => setTimeout(r, 1500)); // past the restart delay
      assert.deepEqual([sup.pid('fanout'), sup.pid('history')], [undefined, undefined]);
    } finally {
      await sup.stopAll([]);
      await nats.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the worker that keeps exiting while another is still starting, with its true exit count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'busway-supervisor-'));
    // accepts and never answers: a worker connecting to it stays starting (not ready, not exited) for a while
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `nats://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const sup = new Supervisor({ ...process.env, NATS_URL: url }, dir);
    try {
      await sup.start('fanout');
      await sup.start('no-such-worker');
      await assert.rejects(sup.waitReady(15_000), /no-such-worker exited 3 times before it was ready/);
    } finally {
      await sup.stopAll([]);
      silent.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
