import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import { Streams } from '@busway/proto';
import { ConsumerConfigSchema } from './config.js';
import { ACK, startConsumeLoop, type Outcome } from './consume-loop.js';
import { Hdr, fabricHeaders } from './headers.js';
import { createLogger } from './logger.js';
import { StageMetrics } from './metrics.js';
import { ensureConsumer, ensureStream } from './provision.js';
import { PubAckPublisher } from './pub-acks.js';

describe('consume loop against a real nats-server', () => {
  let server: TestServer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  const log = createLogger('test', 'silent');

  before(async () => {
    server = await startNats();
    nc = await connect({ servers: server.url });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    await ensureStream(jsm, { name: 'IN', subjects: ['in.>'] });
    await ensureStream(jsm, { ...Streams.DeadLetter });
  });
  after(async () => {
    await nc.close();
    await server.dispose();
  });

  async function setup(durable: string, maxDeliver = 3) {
    const config = ConsumerConfigSchema.parse({ batchSize: 16, maxDeliver, nakDelayMs: 0 });
    await ensureConsumer(jsm, { stream: 'IN', durable, filterSubject: `in.${durable}`, ...config });
    return { config, metrics: new StageMetrics(durable) };
  }

  /** Publishes each body with a message id of its position, counted from `first` (ids are deduplicated). */
  async function publish(subject: string, bodies: string[], first = 0) {
    for (const [at, body] of bodies.entries()) {
      const i = first + at;
      const h = fabricHeaders({ type: 'test', source: '/test', id: `${subject}-${i}` });
      await js.publish(subject, new TextEncoder().encode(body), { headers: h, msgID: `${subject}-${i}` });
    }
  }

  it('acks good messages and dead-letters poison ones with the reason and the original headers', async () => {
    const { config, metrics } = await setup('mixed');
    await publish('in.mixed', ['ok', 'bad', 'ok', 'ok']);
    const seen: string[] = [];
    const loop = await startConsumeLoop({
      stage: 'mixed',
      js,
      stream: 'IN',
      durable: 'mixed',
      config,
      metrics,
      log,
      handle: async (batch) =>
        batch.map((m): Outcome => {
          seen.push(m.string());
          return m.string() === 'bad'
            ? { kind: 'poison', code: 'decode-error', message: 'not a payload' }
            : ACK;
        }),
    });
    await waitFor('all four handled', () => seen.length === 4);
    await loop.stop();
    const dlq = await jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.v1.mixed' });
    assert.equal(dlq?.string(), 'bad');
    assert.equal(dlq?.header.get(Hdr.DlqCode), 'decode-error');
    assert.equal(dlq?.header.get(Hdr.DlqReason), 'not a payload');
    assert.equal(dlq?.header.get(Hdr.DlqSubject), 'in.mixed');
    assert.equal(dlq?.header.get(Hdr.Type), 'test', 'original CloudEvents headers are kept');
    // acks and terms are fire-and-forget: wait until the server has applied them
    await waitFor('nothing pending on the consumer', async () => {
      const info = await jsm.consumers.info('IN', 'mixed');
      return info.num_ack_pending === 0 && info.num_pending === 0 && info.num_redelivered === 0;
    });
    assert.equal(await metrics.value('busway_dead_letters_total', { reason: 'decode-error' }), 1);
    assert.equal(await metrics.value('busway_messages_total', { outcome: 'ack' }), 3);
  });

  it('redelivers a failing message and dead-letters it after the last allowed delivery', async () => {
    const { config, metrics } = await setup('flaky', 3);
    await publish('in.flaky', ['always-fails']);
    let attempts = 0;
    const loop = await startConsumeLoop({
      stage: 'flaky',
      js,
      stream: 'IN',
      durable: 'flaky',
      config,
      metrics,
      log,
      handle: async (batch) => {
        attempts += batch.length;
        throw new Error('redis unreachable');
      },
    });
    await waitFor(
      'dead letter after 3 deliveries',
      async () => (await metrics.value('busway_dead_letters_total', { reason: 'internal' })) === 1,
    );
    await loop.stop();
    assert.equal(attempts, 3);
    const dlq = await jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.v1.flaky' });
    assert.match(dlq?.header.get(Hdr.DlqReason) ?? '', /gave up after 3 deliveries: redis unreachable/);
  });

  it('reads a full pull handled for longer than two heartbeats as a good pull, not a failed one', async () => {
    const { config, metrics } = await setup('slow');
    await publish(
      'in.slow',
      Array.from({ length: 16 }, (_, i) => `m${i}`),
    );
    const pulls: { ok: boolean; messages: number }[] = [];
    let handled = 0;
    const loop = await startConsumeLoop({
      stage: 'slow',
      js,
      stream: 'IN',
      durable: 'slow',
      config, // 16 a pull, 2 s expiry: the client expects a heartbeat every second
      metrics,
      log,
      onPull: (p) => pulls.push(p),
      handle: async (batch) => {
        // the pull is complete, so the server sends no more heartbeats while this batch is handled
        if (handled === 0) await new Promise((r) => setTimeout(r, 3000));
        handled += batch.length;
        return batch.map(() => ACK);
      },
    });
    await waitFor(
      'the slow batch handled and a pull after it',
      () => handled === 16 && pulls.length >= 2,
      15_000,
    );
    await loop.stop();
    assert.deepEqual(
      pulls.filter((p) => !p.ok),
      [],
      `a handler slower than two heartbeats failed the pull: ${JSON.stringify(pulls)}`,
    );
    assert.equal(pulls[0]?.messages, 16);
  });

  it('hands on every message of a pull whose last ones arrive while a slow batch is handled', async () => {
    const { config, metrics } = await setup('late-half');
    await publish(
      'in.late-half',
      Array.from({ length: 8 }, (_, i) => `a${i}`),
    );
    const pulls: { ok: boolean; messages: number }[] = [];
    let handled = 0;
    let redelivered = 0;
    const loop = await startConsumeLoop({
      stage: 'late-half',
      js,
      stream: 'IN',
      durable: 'late-half',
      config, // 16 a pull, 2 s expiry, 30 s ack wait
      metrics,
      log,
      onPull: (p) => pulls.push(p),
      handle: async (batch) => {
        if (handled === 0) {
          // the rest of the pull arrives now, completing it: the server then sends no more heartbeats, and the
          // client fails the pull (two missed) before this batch is done; what it holds must still come through
          await publish(
            'in.late-half',
            Array.from({ length: 8 }, (_, i) => `b${i}`),
            8,
          );
          await new Promise((r) => setTimeout(r, 5000));
        }
        handled += batch.length;
        redelivered += batch.filter((m) => m.redelivered).length;
        return batch.map(() => ACK);
      },
    });
    // well before the 30 s ack wait: a message left in the failed pull would come back only then
    await waitFor('all 16 handled', () => handled === 16, 15_000);
    await loop.stop();
    assert.equal(redelivered, 0, 'every message handled on its first delivery');
    assert.deepEqual(
      pulls.filter((p) => !p.ok),
      [],
      `the pull that brought all 16 failed: ${JSON.stringify(pulls)}`,
    );
  });

  it('holds a batch whose output stream is unavailable in place: nothing overtakes it, nothing is redelivered', async () => {
    const { config, metrics } = await setup('holder');
    const publisher = new PubAckPublisher(nc, 1000);
    const stored: string[] = [];
    let redelivered = 0;
    const loop = await startConsumeLoop({
      stage: 'holder',
      js,
      stream: 'IN',
      durable: 'holder',
      config: { ...config, batchSize: 1, nakDelayMs: 200 },
      metrics,
      log,
      holdWhileUnavailable: true,
      handle: async (batch) => {
        redelivered += batch.filter((m) => m.redelivered).length;
        for (const m of batch) await publisher.publish('held.out', m.data, { msgID: m.string() });
        stored.push(...batch.map((m) => m.string()));
        return batch.map(() => ACK);
      },
    });
    // no stream takes held.out yet: 'no responders', as while a stream's leader is elected
    await publish(
      'in.holder',
      Array.from({ length: 4 }, (_, i) => `m${i}`),
    );
    await waitFor(
      'the first batch held and tried again',
      async () => (await metrics.value('busway_messages_total', { outcome: 'store-retry' })) >= 3,
    );
    await ensureStream(jsm, { name: 'HELD', subjects: ['held.>'] });
    await waitFor('all four stored', () => stored.length === 4);
    await loop.stop();
    publisher.close();
    assert.deepEqual(stored, ['m0', 'm1', 'm2', 'm3'], 'stored in the order they came');
    assert.equal(redelivered, 0, 'held, not redelivered');
    assert.equal(await metrics.value('busway_messages_total', { outcome: 'retry' }), 0);
    assert.equal(await metrics.value('busway_messages_total', { outcome: 'ack' }), 4);
    const info = await jsm.streams.info('HELD');
    assert.equal(info.state.messages, 4);
  });

  it('stops after finishing the batch in hand, leaving the rest for the next run', async () => {
    const { config, metrics } = await setup('stopper');
    await publish(
      'in.stopper',
      Array.from({ length: 50 }, (_, i) => `m${i}`),
    );
    let handled = 0;
    const first = await startConsumeLoop({
      stage: 'stopper',
      js,
      stream: 'IN',
      durable: 'stopper',
      config: { ...config, batchSize: 5 },
      metrics,
      log,
      handle: async (batch) => {
        handled += batch.length;
        await new Promise((r) => setTimeout(r, 20));
        return batch.map(() => ACK);
      },
    });
    await waitFor('some handled', () => handled >= 10);
    await first.stop();
    const afterStop = handled;
    const second = await startConsumeLoop({
      stage: 'stopper',
      js,
      stream: 'IN',
      durable: 'stopper',
      config,
      metrics,
      log,
      handle: async (batch) => {
        handled += batch.length;
        return batch.map(() => ACK);
      },
    });
    await waitFor('all 50 acked', async () => {
      const info = await jsm.consumers.info('IN', 'stopper');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
    await second.stop();
    assert.ok(afterStop < 50, 'the first loop stopped early');
    assert.ok(handled >= 50, `every message handled at least once (handled ${handled})`);
  });
});
