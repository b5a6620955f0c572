import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import { ConsumerConfigSchema } from './config.js';
import { ACK, startConsumeLoop } from './consume-loop.js';
import { startConsumerLag } from './consumer-lag.js';
import { fabricHeaders } from './headers.js';
import { createLogger } from './logger.js';
import { StageMetrics } from './metrics.js';
import { ensureConsumer, ensureStream } from './provision.js';

describe('consumer lag and per-message latency on a real nats-server', () => {
  let server: TestServer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  const log = createLogger('test', 'silent');
  const config = ConsumerConfigSchema.parse({ batchSize: 16, nakDelayMs: 0 });

  before(async () => {
    server = await startNats();
    nc = await connect({ servers: server.url });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    await ensureStream(jsm, { name: 'LAG', subjects: ['lag.>'] });
  });
  after(async () => {
    await nc.close();
    await server.dispose();
  });

  async function publish(subject: string, n: number, time?: string) {
    for (let i = 0; i < n; i++) {
      const h = fabricHeaders({ type: 'test', source: '/test', id: `${subject}-${i}`, time });
      await js.publish(subject, new TextEncoder().encode(String(i)), {
        headers: h,
        msgID: `${subject}-${i}`,
      });
    }
  }
  /** A histogram's `_count` or `_sum` from prom-client's JSON. */
  const series = async (metrics: StageMetrics, name: string, suffix: '_count' | '_sum') => {
    const values = (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
    return values.find((v) => (v as { metricName?: string }).metricName?.endsWith(suffix))?.value ?? 0;
  };
  const gauge = async (metrics: StageMetrics, name: string, consumer: string) =>
    metrics.value(name, { stream: 'LAG', consumer });

  it('reads num_pending and num_ack_pending from the server, and keeps the last values when it cannot', async () => {
    await ensureConsumer(jsm, { stream: 'LAG', durable: 'idle', filterSubject: 'lag.idle', ...config });
    await publish('lag.idle', 5);
    const metrics = new StageMetrics('t');
    const lag = startConsumerLag({
      stream: 'LAG',
      consumer: 'idle',
      info: () => jsm.consumers.info('LAG', 'idle'),
      metrics,
      log,
      intervalMs: 0,
    });
    await lag.sample();
    assert.equal(await gauge(metrics, 'busway_consumer_pending_messages', 'idle'), 5);
    assert.equal(await gauge(metrics, 'busway_consumer_ack_pending_messages', 'idle'), 0);

    const fetched = await (await js.consumers.get('LAG', 'idle')).fetch({ max_messages: 2, expires: 1000 });
    for await (const m of fetched) void m; // held, not acknowledged
    await lag.sample();
    assert.equal(await gauge(metrics, 'busway_consumer_pending_messages', 'idle'), 3);
    assert.equal(await gauge(metrics, 'busway_consumer_ack_pending_messages', 'idle'), 2);

    await jsm.consumers.delete('LAG', 'idle');
    await lag.sample(); // consumer info now fails: logged, never thrown
    assert.equal(await gauge(metrics, 'busway_consumer_pending_messages', 'idle'), 3);
    lag.stop();
  });

  it('lets a consume loop report its own lag and observe receive → ack and event time → processed per message', async () => {
    await ensureConsumer(jsm, { stream: 'LAG', durable: 'busy', filterSubject: 'lag.busy', ...config });
    const ageS = 2;
    await publish('lag.busy', 3, new Date(Date.now() - ageS * 1000).toISOString());
    const metrics = new StageMetrics('t');
    const loop = await startConsumeLoop({
      stage: 'busy',
      js,
      stream: 'LAG',
      durable: 'busy',
      config,
      metrics,
      log,
      lagIntervalMs: 100,
      handle: async (batch) => batch.map(() => ACK),
    });
    try {
      await waitFor('every message acknowledged', async () =>
        (await metrics.value('busway_messages_total', { stage: 'busy', outcome: 'ack' })) === 3
          ? true
          : undefined,
      );
      const count = await series(metrics, 'busway_event_latency_seconds', '_count');
      const sum = await series(metrics, 'busway_event_latency_seconds', '_sum');
      assert.equal(count, 3, 'one event latency per message');
      assert.ok(sum >= 3 * ageS, `each message was at least ${ageS} s old when processed (sum ${sum})`);
      assert.equal(await series(metrics, 'busway_receive_to_ack_seconds', '_count'), 3);
      await waitFor('the loop samples its lag down to zero', async () =>
        (await gauge(metrics, 'busway_consumer_ack_pending_messages', 'busy')) === 0 &&
        (await gauge(metrics, 'busway_consumer_waiting_pulls', 'busy')) > 0
          ? true
          : undefined,
      );
      assert.equal(await gauge(metrics, 'busway_consumer_pending_messages', 'busy'), 0);
    } finally {
      await loop.stop();
    }
  });
});
