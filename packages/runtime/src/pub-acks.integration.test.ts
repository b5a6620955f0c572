import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DiscardPolicy, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { startNats, type TestServer } from '@busway/testkit';
import { loadConfig, RuntimeConfigSchema } from './config.js';
import { PubAckPublisher, PublishError } from './pub-acks.js';
import { WorkerRuntime } from './worker.js';

describe('PubAckPublisher against a real nats-server', () => {
  let nats: TestServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let publisher: PubAckPublisher;
  const data = new TextEncoder().encode('x');

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url, inboxPrefix: '_INBOX.w1' });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'S', subjects: ['s.>'] });
    await jsm.streams.add({ name: 'ONE', subjects: ['one.>'], max_msgs: 1, discard: DiscardPolicy.New });
    publisher = new PubAckPublisher(nc, 300);
  });
  after(async () => {
    publisher.close();
    await nc.close();
    await nats.dispose();
  });

  it('resolves with the stream and sequence once stored, many in flight at once', async () => {
    const acks = await Promise.all(
      Array.from({ length: 500 }, (_, i) => publisher.publish(`s.${i % 7}`, data, { headers: headers() })),
    );
    assert.deepEqual(
      acks.map((a) => a.seq).sort((a, b) => a - b),
      Array.from({ length: 500 }, (_, i) => i + 1),
    );
    assert.ok(acks.every((a) => a.stream === 'S' && !a.duplicate));
    assert.equal((await jsm.streams.info('S')).state.messages, 500);
  });

  it('sets Nats-Msg-Id, so a repeat is stored once, acknowledged as a duplicate and reported', async () => {
    const dropped: string[] = [];
    const counting = new PubAckPublisher(nc, 300, (stream) => dropped.push(stream));
    const first = await counting.publish('s.dup', data, { msgID: 'id-1' });
    const again = await counting.publish('s.dup', data, { headers: headers(), msgID: 'id-1' });
    counting.close();
    assert.deepEqual([first.duplicate, again.duplicate, again.seq], [false, true, first.seq]);
    assert.deepEqual(dropped, ['S'], 'the repeat, once');
    const stored = await jsm.streams.getMessage('S', { last_by_subj: 's.dup' });
    assert.equal(stored?.header.get('Nats-Msg-Id'), 'id-1');
  });

  it('counts the repeats a worker runtime’s publisher was told of, by stream', async () => {
    const config = loadConfig(RuntimeConfigSchema, {
      env: { NATS_URL: nats.url, BUSWAY_HTTP_PORT: '0', BUSWAY_LOG_LEVEL: 'silent', BUSWAY_CONFIG: '' },
      worker: 'dup-test',
    });
    const rt = await WorkerRuntime.start('dup-test', config);
    try {
      for (let i = 0; i < 3; i++) await rt.publisher.publish('s.rt', data, { msgID: 'rt-1' });
      assert.equal(await rt.metrics.value('busway_publish_duplicates_total', { stream: 'S' }), 2);
    } finally {
      await rt.stop();
    }
  });

  it('rejects a subject no stream takes, and a message the stream refuses', async () => {
    await assert.rejects(publisher.publish('nowhere.x', data), (err: Error) => {
      assert.match(err.message, /no stream takes nowhere\.x/);
      assert.ok(err instanceof PublishError && err.unavailable, 'no responders: no stream could answer');
      return true;
    });
    await publisher.publish('one.a', data);
    await assert.rejects(publisher.publish('one.b', data), (err: Error) => {
      assert.ok(err instanceof PublishError);
      assert.match(err.message, /one\.b refused: 503 maximum messages exceeded/);
      assert.equal(err.unavailable, false, 'a stream answered: it refused');
      return true;
    });
  });

  it('rejects when nothing answers within its timeout, and takes its acks below the connection inbox prefix', async () => {
    const silent = nc.subscribe('mute.>'); // a responder that never answers: not "no responders"
    const replies: string[] = [];
    const observer = await connect({ servers: nats.url });
    observer.subscribe('_INBOX.w1.>', {
      callback: (_e, m) => {
        replies.push(m.subject);
      },
    });
    await observer.flush();
    await assert.rejects(publisher.publish('mute.x', data), (err: Error) => {
      assert.match(err.message, /no PubAck for mute\.x within 300 ms/);
      assert.ok(err instanceof PublishError && err.unavailable);
      return true;
    });
    await publisher.publish('s.seen', data);
    await observer.flush();
    assert.ok(replies.length > 0 && replies.every((s) => s.startsWith('_INBOX.w1.')), replies.join());
    silent.unsubscribe();
    await observer.close();
  });

  it('rejects what is pending when the connection closes', async () => {
    const own = await connect({ servers: nats.url });
    const p = new PubAckPublisher(own, 60_000);
    own.subscribe('mute2.>');
    await own.flush();
    const pending = p.publish('mute2.x', data);
    await own.close();
    await assert.rejects(pending, (err: Error) => {
      assert.match(err.message, /closed/);
      assert.ok(err instanceof PublishError && !err.unavailable, 'a closed connection will not answer later');
      return true;
    });
  });
});
