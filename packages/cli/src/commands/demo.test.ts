import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startNats } from '@busway/testkit';
import { demo } from './demo.js';

describe('busway demo, when a worker never gets ready', () => {
  it('fails naming the worker and leaves none of the workers it started running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'busway-demo-fail-'));
    const nats = await startNats();
    const lines: string[] = [];
    try {
      await assert.rejects(
        demo({
          durationMs: 1000,
          stack: { natsUrl: nats.url, redisUrl: 'redis://127.0.0.1:1', mqttUrl: 'mqtt://127.0.0.1:1' },
          // fanout gets ready on NATS alone; the second one exits at once, every time
          workers: [{ name: 'fanout' }, { name: 'no-such-worker' }],
          simulator: { name: 'simulator' },
          site: 'ai1',
          seed: 1,
          log: (line) => lines.push(line),
          dir,
        }),
        /no-such-worker exited 3 times before it was ready/,
      );
      const portFile = join(dir, 'logs', 'fanout.port');
      assert.ok(existsSync(portFile), 'fanout had started and written its port');
      const port = Number(readFileSync(portFile, 'utf8'));
      const answer = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      // a leftover worker is still supervised from this process, which would then never end: end it once reported
      if (answer !== undefined) setTimeout(() => process.exit(1), 5000).unref();
      assert.equal(answer, undefined, `fanout still answers on ${port}: the failed demo left it running`);
    } finally {
      await nats.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
