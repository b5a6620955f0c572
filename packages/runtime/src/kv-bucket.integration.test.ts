import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsCluster, waitFor, type NatsCluster } from '@busway/testkit';
import { openKvBucket } from './kv-bucket.js';

describe('a worker’s KV bucket on a 3-node JetStream cluster', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  before(async () => {
    cluster = await startNatsCluster({ size: 3 });
    nc = await connect({ servers: cluster.url.split(',') });
    // a just-elected meta leader may not answer the first request yet
    jsm = await waitFor('JetStream to answer', () => jetstreamManager(nc, { timeout: 10_000 }), 30_000, 500);
  });

  after(async () => {
    await nc?.close();
    await cluster?.dispose();
  });

  it('is created with the replicas asked for, one value per key and the TTL asked for', async () => {
    const kv = await openKvBucket(jetstream(nc), 'replicated', { replicas: 3, ttlMs: 60_000 });
    await kv.put('a', '1');
    await kv.put('a', '2');
    const info = await jsm.streams.info('KV_replicated');
    assert.equal(info.config.num_replicas, 3);
    assert.equal(info.config.max_msgs_per_subject, 1);
    assert.equal(info.config.max_age, 60_000 * 1_000_000);
    assert.equal((await kv.get('a'))?.string(), '2');
  });

  it('uses a bucket that exists already as it is', async () => {
    await openKvBucket(jetstream(nc), 'provisioned', { replicas: 1 });
    const kv = await openKvBucket(jetstream(nc), 'provisioned', { replicas: 3 });
    await kv.put('k', 'v');
    assert.equal((await jsm.streams.info('KV_provisioned')).config.num_replicas, 1);
  });
});
