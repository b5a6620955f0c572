import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { startNats, waitFor } from '@busway/testkit';
import { connectNats } from './nats.js';

/** A logger whose JSON lines land in `lines`. */
function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

const WARN = 40;

describe('the NATS connection log', () => {
  it('tells a graceful drain at info, and a lost server as a warning', async () => {
    const server = await startNats();
    try {
      const drained = capturingLogger();
      const nc = await connectNats({ url: server.url, name: 'drained' }, drained.log);
      await nc.drain();
      await waitFor('the close logged', () => drained.lines.some((l) => l.msg === 'NATS connection closed'));
      assert.deepEqual(
        drained.lines.filter((l) => l.level >= WARN),
        [],
        'a drain asked for warns of nothing',
      );

      const lost = capturingLogger();
      const nc2 = await connectNats({ url: server.url, name: 'lost' }, lost.log);
      await server.kill();
      await waitFor('the disconnect logged', () =>
        lost.lines.some((l) => l.level >= WARN && l.msg === 'NATS disconnect'),
      );
      await nc2.close();
    } finally {
      await server.dispose();
    }
  });
});
