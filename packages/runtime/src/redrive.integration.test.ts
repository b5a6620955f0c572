import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Streams } from '@busway/proto';
import { startNats, type TestServer } from '@busway/testkit';
import { listDeadLetters, publishDeadLetter } from './dead-letter.js';
import { fabricHeaders, Hdr } from './headers.js';
import { ensureStream } from './provision.js';
import { redriveDeadLetters, type RedriveOptions } from './redrive.js';
import { fabricStreams } from './streams.js';

const RAW_SUBJECT = 'raw.v1.samples.modbus.plc-1';
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('listing and re-driving dead letters on a real nats-server', () => {
  let server: TestServer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  const reason = (code: string) => ({ code, message: `${code} in the test` });
  const bytes = (text: string) => new TextEncoder().encode(text);
  /** Redrives, and says which DLQ sequences went back and which origins stayed. */
  const redrive = async (opts: Omit<RedriveOptions, 'onLetter'>) => {
    const sent: number[] = [];
    const left: string[] = [];
    const r = await redriveDeadLetters(js, jsm, {
      ...opts,
      onLetter: (l, back) => void (back ? sent.push(l.seq) : left.push(l.origin)),
    });
    assert.deepEqual(
      [r.redriven, r.outsideFabric],
      [sent.length, left.length],
      'the counts match the letters',
    );
    return { sent, left };
  };

  before(async () => {
    server = await startNats();
    nc = await connect({ servers: server.url });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    for (const s of fabricStreams()) await ensureStream(jsm, s);
    const original = (id: string) => {
      const h = fabricHeaders({ type: 'busway.v1.SampleBatch', source: '/test', id });
      h.set(Hdr.TraceParent, TRACEPARENT);
      h.set(Hdr.MsgId, id);
      return h;
    };
    // two from a consuming worker (origin: a RAW subject), one from a bridge (origin: an MQTT topic)
    await publishDeadLetter(
      js,
      'normalizer',
      RAW_SUBJECT,
      bytes('a'),
      original('in-1'),
      reason('unit-mismatch'),
      1,
      1,
    );
    await publishDeadLetter(
      js,
      'normalizer',
      RAW_SUBJECT,
      bytes('b'),
      original('in-2'),
      reason('decode-error'),
      5,
      2,
    );
    await publishDeadLetter(
      js,
      'ingest-sparkplug',
      'spBv1.0/g/NDATA/e',
      bytes('c'),
      undefined,
      reason('decode-error'),
    );
  });
  after(async () => {
    await nc.close();
    await server.dispose();
  });

  it('lists what the DLQ holds, by worker and by reason code', async () => {
    const all = await listDeadLetters(js, jsm);
    assert.deepEqual(
      all.map((l) => [l.seq, l.stage, l.code, l.origin, l.deliveries]),
      [
        [1, 'normalizer', 'unit-mismatch', RAW_SUBJECT, 1],
        [2, 'normalizer', 'decode-error', RAW_SUBJECT, 5],
        [3, 'ingest-sparkplug', 'decode-error', 'spBv1.0/g/NDATA/e', 1],
      ],
    );
    assert.equal(all[0]?.reason, 'unit-mismatch in the test');
    const decode = await listDeadLetters(js, jsm, { code: 'decode-error' });
    assert.deepEqual(
      decode.map((l) => l.seq),
      [2, 3],
    );
    const normalizer = await listDeadLetters(js, jsm, { stage: 'normalizer', code: 'decode-error' });
    assert.deepEqual(
      normalizer.map((l) => l.seq),
      [2],
    );
    assert.deepEqual(await listDeadLetters(js, jsm, { stage: 'anomaly' }), [], 'a worker with none');
  });

  it('sends a dead letter back to its subject with its trace and a new id, and removes it from the DLQ', async () => {
    const dry = await redrive({ stage: 'normalizer', code: 'unit-mismatch', dryRun: true });
    assert.deepEqual(dry.sent, [1]);
    assert.equal((await jsm.streams.info('RAW')).state.messages, 0, 'a dry run publishes nothing');
    assert.equal((await jsm.streams.info(Streams.DeadLetter.name)).state.messages, 3, 'and deletes nothing');

    const done = await redrive({ stage: 'normalizer', code: 'unit-mismatch' });
    assert.deepEqual(done.sent, [1]);
    const back = await jsm.streams.getMessage('RAW', { last_by_subj: RAW_SUBJECT });
    assert.ok(back, 'back on RAW');
    assert.equal(new TextDecoder().decode(back.data), 'a', 'the original payload');
    assert.equal(back.header.get(Hdr.TraceParent), TRACEPARENT, 'the original trace goes on');
    assert.equal(back.header.get(Hdr.Type), 'busway.v1.SampleBatch');
    assert.equal(back.header.get(Hdr.Id), 'in-1~redrive:normalizer:1', 'a new event id that names the first');
    assert.equal(back.header.get(Hdr.MsgId), 'redrive:normalizer:1');
    assert.equal(back.header.get(Hdr.RedrivenFrom), 'DLQ:1');
    assert.equal(back.header.get(Hdr.DlqCode), '', 'no dead-letter header left on it');
    assert.deepEqual(
      (await listDeadLetters(js, jsm)).map((l) => l.seq),
      [2, 3],
      'removed from the DLQ',
    );
  });

  it('leaves in the DLQ what came from outside the fabric, and re-drives nothing twice', async () => {
    const bridge = await redrive({ stage: 'ingest-sparkplug' });
    assert.deepEqual(bridge, { sent: [], left: ['spBv1.0/g/NDATA/e'] });
    // more than one pull's worth (256), and a letter that fails again while the pass runs: it lands after the
    // pass began, and the same pass must not send it back again (an unfixed cause would loop for ever)
    for (let i = 0; i < 300; i++)
      await publishDeadLetter(
        js,
        'normalizer',
        RAW_SUBJECT,
        bytes(`m${i}`),
        undefined,
        reason('decode-error'),
        1,
        i,
      );
    let again: number | undefined;
    const rest = await redriveDeadLetters(js, jsm, {
      stage: 'normalizer',
      onLetter: async (l) => {
        if (again !== undefined) return;
        again = l.seq;
        await publishDeadLetter(js, 'normalizer', l.origin, l.data, undefined, reason('again'), 1, 9999);
      },
    });
    assert.equal(rest.redriven, 301, 'every letter the DLQ held when the pass began');
    const left = await listDeadLetters(js, jsm);
    assert.deepEqual(
      left.map((l) => [l.seq, l.code]),
      [
        [3, 'decode-error'],
        [3 + 300 + 1, 'again'],
      ],
      'the one that failed again waits for the next pass',
    );
    assert.deepEqual((await redrive({ stage: 'normalizer' })).sent, [3 + 300 + 1]);
    assert.deepEqual((await redrive({ stage: 'normalizer' })).sent, [], 'nothing left to send back');
    assert.equal((await jsm.streams.info('RAW')).state.messages, 303, 'each sent back once');
    assert.deepEqual(
      (await listDeadLetters(js, jsm, {}, 1)).map((l) => l.seq),
      [3],
      'a listing stops at its limit',
    );
  });

  it('says so when the server has no DLQ stream (not the fabric, or not provisioned)', async () => {
    const bare = await startNats();
    const bareNc = await connect({ servers: bare.url });
    try {
      await assert.rejects(
        listDeadLetters(jetstream(bareNc), await jetstreamManager(bareNc)),
        /no DLQ stream on this NATS server: is it the fabric's, and provisioned \(busway provision\)\?/,
      );
    } finally {
      await bareNc.close();
      await bare.dispose();
    }
  });
});
