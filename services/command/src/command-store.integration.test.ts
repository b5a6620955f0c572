import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { busway } from '@busway/proto';
import { startNats, type TestServer } from '@busway/testkit';
import { CommandStore } from './command-store.js';

describe('command records in JetStream KV', () => {
  let nats: TestServer;
  let nc: NatsConnection;
  let store: CommandStore;

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    store = await CommandStore.open(jetstream(nc), 'busway-commands-test', 60_000);
  });
  after(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  const record = (n: number): busway.v1.ICommandRecord => ({
    command: { commandId: 'cmd-store-1', path: 'uns.v1.a.b.c.d.e.f.g' },
    statuses: Array.from({ length: n }, () => ({
      commandId: 'cmd-store-1',
      state: busway.v1.CommandState.COMMAND_STATE_ACCEPTED,
    })),
  });

  it('creates a record once: a second create of the same command id finds it taken', async () => {
    const first = await store.create('cmd-store-1', record(1));
    assert.ok(first);
    assert.equal(await store.create('cmd-store-1', record(1)), undefined);
    const read = await store.get('cmd-store-1');
    assert.equal(read?.record.statuses?.length, 1);
    assert.equal(read?.revision, first.revision);
  });

  it('updates only against the revision it read, so two writers cannot both act', async () => {
    const read = (await store.get('cmd-store-1')) as NonNullable<Awaited<ReturnType<CommandStore['get']>>>;
    const updated = await store.update('cmd-store-1', { record: record(2), revision: read.revision });
    await assert.rejects(
      store.update('cmd-store-1', { record: record(3), revision: read.revision }),
      /wrong last sequence/,
    );
    assert.equal((await store.get('cmd-store-1'))?.record.statuses?.length, 2);
    const all = [];
    for await (const [id, s] of store.all()) all.push([id, s.revision]);
    assert.deepEqual(all, [['cmd-store-1', updated.revision]]);
  });
});
