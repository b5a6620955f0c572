import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { fabricStreams } from '@busway/runtime';
import { startNats, type TestServer } from '@busway/testkit';

const BIN = fileURLToPath(new URL('./bin.js', import.meta.url));

describe('busway provision --workers against a real nats-server', () => {
  let nats: TestServer;
  let nc: NatsConnection;
  const busway = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], {
      env: { ...process.env, NATS_URL: nats.url, BUSWAY_LOG_LEVEL: 'warn' },
      encoding: 'utf8',
    });

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  });
  after(async () => {
    await nc.close();
    await nats.dispose();
  });

  it("creates every stream but only the named workers' consumers, and refuses a name it does not know", async () => {
    const run = busway('provision', '--workers', 'normalizer, correlator');
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { streams: fabricStreams().length, consumers: 2 });
    const jsm = await jetstreamManager(nc);
    const durables: string[] = [];
    for await (const s of jsm.streams.list())
      for await (const c of jsm.consumers.list(s.config.name)) durables.push(`${s.config.name}/${c.name}`);
    assert.deepEqual(durables.sort(), ['NORM/correlator', 'RAW/normalizer']);

    const wrong = busway('provision', '--workers', 'normaliser');
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /unknown worker 'normaliser'; one of: .*normalizer/);
  });
});
