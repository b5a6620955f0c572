import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JsMsg } from '@nats-io/jetstream';
import {
  ACK,
  ConsumerConfigSchema,
  ensureConsumer,
  Hdr,
  runWorker,
  type Outcome,
  type WorkerRuntime,
} from '@busway/runtime';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import { egressMqttModule } from './index.js';
import { HeldMessages } from './held.js';

const consumer = ConsumerConfigSchema.parse({ maxDeliver: 2, nakDelayMs: 0, ackWaitMs: 30_000 });

describe('messages held while their publications are in flight, settled one by one on real nats-server', () => {
  let nats: TestServer;
  let rt: WorkerRuntime;
  let held: HeldMessages;
  let n = 0;

  /** Publishes `count` messages to a fresh durable on UNS and fetches them once. */
  const fetchFresh = async (count: number): Promise<{ durable: string; msgs: JsMsg[] }> => {
    const durable = `held-${++n}`;
    const subject = `uns.v1.held.h.r.k.c.a${n}.m`;
    await ensureConsumer(rt.jsm, {
      stream: 'UNS',
      durable,
      filterSubject: subject,
      maxAckPending: 100,
      ackWaitMs: 30_000,
      maxDeliver: 2,
    });
    for (let i = 0; i < count; i++) await rt.js.publish(subject, new Uint8Array([i]));
    return { durable, msgs: await fetchFrom(durable, count) };
  };
  const fetchFrom = async (durable: string, count: number): Promise<JsMsg[]> => {
    const c = await rt.js.consumers.get('UNS', durable);
    const msgs: JsMsg[] = [];
    for await (const m of await c.fetch({ max_messages: count, expires: 2000 })) msgs.push(m);
    return msgs;
  };
  const later = (o: Outcome) => new Promise<Outcome>((resolve) => setTimeout(() => resolve(o), 20));

  before(async () => {
    nats = await startNats();
    ({ rt } = await runWorker(egressMqttModule, {
      env: { NATS_URL: nats.url, BUSWAY_LOG_LEVEL: 'silent' },
      signals: false,
    }));
    held = new HeldMessages({
      js: rt.js,
      worker: 'egress-mqtt',
      stage: 'egress',
      consumer,
      metrics: rt.metrics,
      termWithReason: rt.features().termWithReason,
      log: rt.log,
    });
  });
  after(async () => {
    await rt.stop();
    await nats.dispose();
  });

  it('acks each message once its own outcome is known, and drain() waits for all of them', async () => {
    const { durable, msgs } = await fetchFresh(3);
    assert.equal(msgs.length, 3);
    for (const m of msgs) held.hold(m, later(ACK));
    assert.equal(held.size, 3, 'held until their outcome comes');
    await held.drain();
    assert.equal(held.size, 0);
    await waitFor('acked on the server', async () => {
      const c = await rt.jsm.consumers.info('UNS', durable);
      return c.num_ack_pending === 0 && c.num_pending === 0;
    });
  });

  it('naks a message whose publish failed, so it comes again, and dead-letters it on its last delivery', async () => {
    const retry: Outcome = {
      kind: 'retry',
      code: 'publish-failed',
      message: 'PUBACK timed out after 1000 ms',
    };
    const { durable, msgs } = await fetchFresh(1);
    held.hold(msgs[0] as JsMsg, later(retry));
    await held.drain();
    const [again] = await fetchFrom(durable, 1);
    assert.equal(again?.info.deliveryCount, 2, 'redelivered after the nak');
    held.hold(again as JsMsg, later(retry));
    await held.drain();
    const dead = await waitFor('the dead letter', () =>
      rt.jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.v1.egress-mqtt' }).catch(() => undefined),
    );
    assert.equal(dead.header.get(Hdr.DlqCode), 'publish-failed');
    assert.match(dead.header.get(Hdr.DlqReason) ?? '', /gave up after 2 deliveries: PUBACK timed out/);
    assert.equal(await rt.metrics.value('busway_dead_letters_total', { reason: 'publish-failed' }), 1);
    const c = await rt.jsm.consumers.info('UNS', durable);
    assert.equal(c.num_ack_pending + c.num_pending, 0, 'terminated, not redelivered');
  });
});
