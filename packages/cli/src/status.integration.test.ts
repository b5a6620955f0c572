import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { parseSiteModel, publishSiteModel } from '@busway/registry';
import {
  consumerSpecOf,
  ensureConsumer,
  ensureStream,
  fabricStreams,
  publishDeadLetter,
} from '@busway/runtime';
import { startNats, startRedis, type TestServer } from '@busway/testkit';
import { fabricStatus, formatStatus } from './commands/status.js';

const LIMITS = { maxAckPending: 100, ackWaitMs: 30_000, maxDeliver: 5 };

describe('busway status against a real nats-server and Redis', () => {
  let nats: TestServer;
  let redis: TestServer;
  let nc: NatsConnection;
  let version: number;

  before(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    for (const s of fabricStreams()) await ensureStream(jsm, s);
    await ensureConsumer(jsm, consumerSpecOf('RAW', 'normalizer', 'raw.v1.>', LIMITS));
    await ensureConsumer(jsm, consumerSpecOf('NORM', 'correlator', 'norm.v1.>', LIMITS));
    // three raw messages nobody pulls, one dead letter of the normalizer
    for (let i = 0; i < 3; i++)
      await js.publish('raw.v1.samples.test.a', new Uint8Array([i]), { msgID: `r${i}` });
    await publishDeadLetter(js, 'normalizer', 'raw.v1.samples.test.a', new Uint8Array([9]), undefined, {
      code: 'decode-error',
      message: 'test',
    });
    const kv = new Redis(redis.url);
    kv.on('error', () => undefined);
    version = await publishSiteModel(
      kv,
      parseSiteModel({
        site: 'ai1',
        assets: [{ id: 'rack-1', class: 'rack', hall: 'h1', row: 'r1', rack: 'rack-1' }],
        points: [{ pointId: 'pdu:p1', asset: 'rack-1', metric: 'power.active' }],
      }),
    );
    kv.disconnect();
  });
  after(async () => {
    await nc.close();
    await Promise.all([nats.dispose(), redis.dispose()]);
  });

  it('shows each stream and consumer, flags one with messages and no reader, counts dead letters and reads the registry', async () => {
    const s = await fabricStatus(nats.url, redis.url, 'ai1');
    assert.equal(s.streams.find((x) => x.name === 'RAW')?.messages, 3);
    const byName = new Map(s.consumers.map((c) => [`${c.stream}/${c.durable}`, c]));
    assert.deepEqual([...byName.keys()], ['NORM/correlator', 'RAW/normalizer']);
    assert.equal(byName.get('RAW/normalizer')?.pending, 3);
    assert.equal(byName.get('RAW/normalizer')?.unread, true, 'three waiting and no pull');
    assert.equal(byName.get('NORM/correlator')?.unread, false, 'nothing waiting: nothing to flag');
    assert.deepEqual(s.deadLetters, { normalizer: 1 });
    assert.deepEqual(s.registry, { version, assets: 1, points: 1 });

    const lines = formatStatus(s);
    assert.match(lines.find((l) => l.startsWith('RAW/normalizer')) ?? '', /UNREAD: no pull waiting/);
    assert.doesNotMatch(lines.find((l) => l.startsWith('NORM/correlator')) ?? '', /UNREAD/);
    assert.ok(
      lines.includes('dead letters: normalizer 1 (read them: busway dlq <worker>)'),
      lines.join('\n'),
    );
    assert.ok(lines.includes(`registry: version ${version}, 1 assets, 1 points`), lines.join('\n'));
  });

  it('does not flag a consumer whose worker takes a batch between the two readings', async () => {
    let pulled = 0;
    const s = await fabricStatus(nats.url, undefined, 'ai1', {
      // the worker, between two pulls at the first reading, pulls and acknowledges one message
      recheck: async () => {
        const consumer = await jetstream(nc).consumers.get('RAW', 'normalizer');
        const m = await consumer.next({ expires: 5000 });
        assert.ok(await m?.ackAck());
        pulled++;
      },
    });
    assert.equal(pulled, 1, 'the first reading found it unread');
    const raw = s.consumers.find((c) => c.durable === 'normalizer');
    assert.equal(raw?.unread, false);
    assert.equal(raw?.pending, 3, 'the pending count is the first reading’s');
  });

  it('still reports the fabric when Redis does not answer', async () => {
    const s = await fabricStatus(nats.url, 'redis://127.0.0.1:1', 'ai1');
    assert.equal(s.registry, undefined);
    assert.ok(formatStatus(s).includes('registry: not read (Redis unreachable)'));
    assert.equal(s.consumers.length, 2);
  });
});
