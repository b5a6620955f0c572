import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { busway, Long, org } from '@busway/proto';
import { ensureStream, fabricStreams, Hdr, loadConfig, runWorker, type WorkerRuntime } from '@busway/runtime';
import { startMosquitto, startNats, waitFor, type TestServer } from '@busway/testkit';
import { ingestSparkplugModule, sparkplugDecodeModule } from './index.js';

const Payload = org.eclipse.tahu.protobuf.Payload;
const u64 = (n: number) => Long.fromNumber(n, true);

describe('Sparkplug host (bridge and decode stage) against real Mosquitto and nats-server', () => {
  let nats: TestServer;
  let broker: TestServer;
  /** The bridge's runtime (MQTT → AUDIT) and the decode stage's (AUDIT → RAW). */
  let rt: WorkerRuntime;
  let dec: WorkerRuntime;
  let edge: MqttClient;
  let env: Record<string, string>;
  let decEnv: Record<string, string>;

  before(async () => {
    [nats, broker] = await Promise.all([startNats(), startMosquitto()]);
    env = {
      NATS_URL: nats.url,
      MQTT_URL: broker.url,
      BUSWAY_LOG_LEVEL: 'silent',
      BUSWAY_MQTT_CLIENT_ID: `it-${process.pid}`,
      BUSWAY_REORDER_TIMEOUT_MS: '300',
    };
    // the decode stage's own MQTT client id: one session per id, or the broker drops the bridge's
    decEnv = { ...env, BUSWAY_MQTT_CLIENT_ID: `it-dec-${process.pid}`, BUSWAY_NAK_DELAY_MS: '100' };
    loadConfig(ingestSparkplugModule.configSchema, { env }); // fails fast if the env is wrong
    ({ rt } = await runWorker(ingestSparkplugModule, { env, signals: false }));
    ({ rt: dec } = await runWorker(sparkplugDecodeModule, { env: decEnv, signals: false }));
    edge = await mqtt.connectAsync(broker.url);
  });
  after(async () => {
    await edge.endAsync();
    await rt.stop();
    await dec.stop();
    await Promise.all([nats.dispose(), broker.dispose()]);
  });

  const raw = async () => {
    const info = await rt.jsm.streams.info('RAW');
    const out: busway.v1.ISample[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await rt.jsm.streams.getMessage('RAW', { seq });
      if (m) out.push(...busway.v1.SampleBatch.decode(m.data).samples);
    }
    return out;
  };

  it('turns births and alias-only data into raw samples, dead-letters garbage, and dedups a repeated message', async () => {
    const t0 = 1_800_000_000_000;
    await edge.publishAsync(
      'spBv1.0/g1/NBIRTH/e1',
      Buffer.from(
        Payload.encode({
          timestamp: u64(t0),
          seq: u64(0),
          metrics: [{ name: 'bdSeq', datatype: 8, longValue: u64(3) }],
        }).finish(),
      ),
      { qos: 1 },
    );
    const unit = { keys: ['engUnit'], values: [{ type: 12, stringValue: 'degC' }] };
    await edge.publishAsync(
      'spBv1.0/g1/DBIRTH/e1/cdu-1',
      Buffer.from(
        Payload.encode({
          timestamp: u64(t0),
          seq: u64(1),
          metrics: [
            {
              name: 'Coolant/Return Temp',
              alias: u64(5),
              datatype: 10,
              doubleValue: 40,
              timestamp: u64(t0),
              properties: unit,
            },
          ],
        }).finish(),
      ),
      { qos: 1 },
    );
    await edge.publishAsync('spBv1.0/g1/DDATA/e1/cdu-1', Buffer.from([0x0a, 0xff, 0xff]), { qos: 1 });
    const ddata = Buffer.from(
      Payload.encode({
        timestamp: u64(t0 + 1000),
        seq: u64(2),
        metrics: [{ alias: u64(5), datatype: 10, doubleValue: 41.5, timestamp: u64(t0 + 1000) }],
      }).finish(),
    );
    await edge.publishAsync('spBv1.0/g1/DDATA/e1/cdu-1', ddata, { qos: 1 });
    await edge.publishAsync('spBv1.0/g1/DDATA/e1/cdu-1', ddata, { qos: 1 }); // a broker redelivery looks like this

    const samples = await waitFor('two samples on RAW', async () => {
      const s = await raw();
      return s.length >= 2 ? s : undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    const all = await raw();
    assert.equal(all.length, 2, 'the repeated DDATA was dropped by JetStream dedup');
    const last = samples.find((s) => s.doubleValue === 41.5);
    assert.equal(last?.pointId, 'sparkplug:g1/e1/cdu-1:Coolant/Return Temp');
    assert.equal(last?.unit, 'degC');
    assert.equal(last?.eventTimeNs?.toString(), (BigInt(t0 + 1000) * 1_000_000n).toString());

    const dlq = await rt.jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.v1.sparkplug-decode' });
    assert.equal(dlq?.header.get(Hdr.DlqCode), 'decode-error');
    assert.equal(dlq?.header.get(Hdr.MqttTopic), 'spBv1.0/g1/DDATA/e1/cdu-1');
    assert.deepEqual([...(dlq?.data ?? [])], [0x0a, 0xff, 0xff], 'the message as the edge node sent it');
    assert.equal(await dec.metrics.value('busway_dead_letters_total', { reason: 'decode-error' }), 1);
    // the AUDIT copy is the message exactly as it arrived, one subject per edge node
    const audit = await rt.jsm.streams.getMessage('AUDIT', { last_by_subj: 'audit.v1.sparkplug.g1.e1' });
    assert.deepEqual(Buffer.from(audit?.data ?? []), ddata);
    assert.equal(audit?.header.get(Hdr.MqttTopic), 'spBv1.0/g1/DDATA/e1/cdu-1');
  });

  it('still resolves aliases after a restart, from the births kept in the KV bucket', async () => {
    await dec.stop();
    ({ rt: dec } = await runWorker(sparkplugDecodeModule, { env: decEnv, signals: false }));
    const t1 = 1_800_000_010_000;
    await edge.publishAsync(
      'spBv1.0/g1/DDATA/e1/cdu-1',
      Buffer.from(
        Payload.encode({
          timestamp: u64(t1),
          seq: u64(3),
          metrics: [{ alias: u64(5), datatype: 10, doubleValue: 42.25, timestamp: u64(t1) }],
        }).finish(),
      ),
      { qos: 1 },
    );
    const sample = await waitFor('the aliased sample after the restart', async () =>
      (await raw()).find((s) => s.doubleValue === 42.25),
    );
    assert.equal(sample.pointId, 'sparkplug:g1/e1/cdu-1:Coolant/Return Temp');
    assert.equal(await dec.metrics.value('busway_dead_letters_total', { reason: 'contract-violation' }), 0);
  });

  it('gives alias 0 to the metric born with it, not to every metric born without an alias', async () => {
    const t2 = 1_800_000_020_000;
    const birth = (metrics: org.eclipse.tahu.protobuf.Payload.IMetric[], seq: number) =>
      Buffer.from(Payload.encode({ timestamp: u64(t2), seq: u64(seq), metrics }).finish());
    // Sparkplug aliases may start at 0; the metrics after it carry no alias at all (protobuf default 0)
    await edge.publishAsync(
      'spBv1.0/g1/DBIRTH/e1/pdu-7',
      birth(
        [
          { name: 'Power/Active', alias: u64(0), datatype: 10, doubleValue: 1 },
          { name: 'Voltage/L1', datatype: 10, doubleValue: 230 },
          { name: 'Current/L1', datatype: 10, doubleValue: 4 },
        ],
        4,
      ),
      { qos: 1 },
    );
    await edge.publishAsync(
      'spBv1.0/g1/DDATA/e1/pdu-7',
      birth([{ alias: u64(0), datatype: 10, doubleValue: 12.5, timestamp: u64(t2 + 1) }], 5),
      { qos: 1 },
    );
    const sample = await waitFor('the alias-0 sample', async () =>
      (await raw()).find((s) => s.doubleValue === 12.5),
    );
    assert.equal(sample.pointId, 'sparkplug:g1/e1/pdu-7:Power/Active');
  });

  it('asks a node whose alias it does not know to rebirth, once, and dead-letters the data with the reason', async () => {
    const commands: string[] = [];
    edge.on('message', (topic, payload) => {
      const cmd = Payload.decode(payload);
      if (cmd.metrics.some((m) => m.name === 'Node Control/Rebirth' && m.booleanValue)) commands.push(topic);
    });
    await edge.subscribeAsync('spBv1.0/g1/NCMD/e2', { qos: 0 });
    for (const seq of [0, 1]) {
      await edge.publishAsync(
        'spBv1.0/g1/DDATA/e2/pump-1',
        Buffer.from(
          Payload.encode({
            timestamp: u64(1_800_000_020_000 + seq),
            seq: u64(seq),
            metrics: [{ alias: u64(9), datatype: 10, doubleValue: 1 }],
          }).finish(),
        ),
        { qos: 1 },
      );
    }
    await waitFor('the rebirth request', async () => commands.length > 0);
    await waitFor(
      'both dead letters',
      async () =>
        (await dec.metrics.value('busway_dead_letters_total', { reason: 'contract-violation' })) === 2,
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(commands, ['spBv1.0/g1/NCMD/e2'], 'one request for a burst of unknown aliases');
    const dlq = await rt.jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.v1.sparkplug-decode' });
    assert.match(dlq?.header.get(Hdr.DlqReason) ?? '', /unknown alias 9 from g1\/e2\/pump-1/);
  });

  it('asks for a rebirth when a seq stays missing past the reorder timeout, not when it only comes late', async () => {
    const rebirths: number[] = [];
    const listener = await mqtt.connectAsync(broker.url);
    listener.on('message', () => rebirths.push(Date.now()));
    await listener.subscribeAsync('spBv1.0/g3/NCMD/e3', { qos: 0 });
    const send = (type: string, seq: number, metrics: org.eclipse.tahu.protobuf.Payload.IMetric[] = []) =>
      edge.publishAsync(
        `spBv1.0/g3/${type}/e3`,
        Buffer.from(
          Payload.encode({ timestamp: u64(1_800_000_030_000 + seq), seq: u64(seq), metrics }).finish(),
        ),
        { qos: 1 },
      );
    await send('NBIRTH', 0, [
      { name: 'bdSeq', datatype: 8, longValue: u64(1) },
      { name: 'x', datatype: 10, doubleValue: 0 },
    ]);
    await send('NDATA', 1, [{ name: 'x', datatype: 10, doubleValue: 1 }]);
    await send('NDATA', 3, [{ name: 'x', datatype: 10, doubleValue: 3 }]); // 2 is missing...
    await send('NDATA', 2, [{ name: 'x', datatype: 10, doubleValue: 2 }]); // ...and comes late, in time
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual(rebirths, [], 'a late seq within the timeout is no gap');
    await send('NDATA', 6, [{ name: 'x', datatype: 10, doubleValue: 6 }]); // 4 and 5 never come
    await waitFor('the rebirth request', async () => rebirths.length === 1);
    await listener.endAsync();
  });

  const ndata = (seq: number, metrics: number) =>
    Buffer.from(
      Payload.encode({
        timestamp: u64(1_800_000_050_000 + seq),
        seq: u64(seq),
        metrics: Array.from({ length: metrics }, (_, k) => ({
          name: `m${k}`,
          datatype: 10,
          doubleValue: seq * 1000 + k,
        })),
      }).finish(),
    );
  const counter = (r: () => WorkerRuntime, outcome: string) => async () =>
    (await r().metrics.messages.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  const samplesOut = async () =>
    (await dec.metrics.samples.get()).values.find((v) => v.labels.direction === 'out')?.value ?? 0;

  /** Every sample of `node` on RAW holds its own message's value (the batches' memory is reused). */
  const assertStoredOnce = async (node: string, messages: number, metrics: number) => {
    const stored = (await raw()).filter((s) => s.pointId?.startsWith(`sparkplug:${node}:`));
    assert.equal(stored.length, messages * metrics, `each sample of ${node} stored once`);
    for (const s of stored) {
      const k = Number(s.pointId?.slice(`sparkplug:${node}:m`.length));
      const seq = Math.floor((s.doubleValue ?? 0) / 1000);
      assert.equal(s.doubleValue, seq * 1000 + k, `${s.pointId} holds another message's value`);
    }
    assert.equal(new Set(stored.map((s) => Math.floor((s.doubleValue ?? 0) / 1000))).size, messages);
  };

  it('counts a gap the node never fills once, and asks for a rebirth, as seq wraps round past it', async () => {
    // a reorder timeout longer than the test: only the sequence coming round can show the seq lost
    await dec.stop();
    ({ rt: dec } = await runWorker(sparkplugDecodeModule, {
      env: { ...decEnv, BUSWAY_REORDER_TIMEOUT_MS: '600000' },
      signals: false,
    }));
    const rebirths: string[] = [];
    const listener = await mqtt.connectAsync(broker.url);
    listener.on('message', (topic) => rebirths.push(topic));
    await listener.subscribeAsync('spBv1.0/g8/NCMD/e8', { qos: 0 });
    const send = (type: string, seq: number) =>
      edge.publishAsync(
        `spBv1.0/g8/${type}/e8`,
        Buffer.from(
          Payload.encode({
            timestamp: u64(1_800_000_060_000 + seq),
            seq: u64(seq % 256),
            metrics: [{ name: 'x', datatype: 10, doubleValue: seq }],
          }).finish(),
        ),
        { qos: 1 },
      );
    await send('NBIRTH', 0);
    // seq 4 never comes; the sequence goes on past 255 and round to 4 again, and beyond
    for (let seq = 1; seq <= 400; seq++) if (seq !== 4) await send('NDATA', seq);
    await waitFor('every message decoded', async () => (await samplesOut()) === 400);
    await waitFor('the rebirth request', async () => rebirths.length === 1);
    assert.equal(await counter(() => dec, 'seq-gap')(), 1, 'the same gap counted again on a wrap');
    await listener.endAsync();
  });

  it('withholds the PUBACK while AUDIT cannot store a message, and stores every message once it can', async () => {
    const audit = fabricStreams().find((s) => s.name === 'AUDIT');
    assert.ok(audit);
    const retries = counter(() => rt, 'store-retry');
    const retried = await retries();
    await rt.jsm.streams.delete('AUDIT');
    await edge.publishAsync('spBv1.0/g4/NDATA/e4', ndata(0, 50), { qos: 1 });
    await waitFor('the store refused and retried', async () => (await retries()) >= retried + 2);
    const held = async () => (await rt.metrics.bufferBytes.get()).values[0]?.value ?? 0;
    assert.ok((await held()) > 0, 'the message is held, unacknowledged to the broker');
    await ensureStream(rt.jsm, audit, rt.log);
    await dec.stop();
    ({ rt: dec } = await runWorker(sparkplugDecodeModule, { env: decEnv, signals: false }));
    for (let seq = 1; seq <= 20; seq++)
      await edge.publishAsync('spBv1.0/g4/NDATA/e4', ndata(seq, 50), { qos: 1 });
    await waitFor('every message decoded', async () => (await samplesOut()) === 21 * 50);
    await waitFor('no message held', async () => (await held()) === 0);
    assert.equal((await rt.jsm.streams.info('AUDIT')).state.messages, 21);
    await assertStoredOnce('g4/e4', 21, 50);
  });

  it('holds a batch in place while RAW cannot store it, and decodes each message once', async () => {
    const rawStream = fabricStreams().find((s) => s.name === 'RAW');
    assert.ok(rawStream);
    const gaps = counter(() => dec, 'seq-gap');
    const holds = counter(() => dec, 'store-retry');
    const [gapsBefore, holdsBefore, samplesBefore] = [await gaps(), await holds(), await samplesOut()];
    await edge.publishAsync('spBv1.0/g5/NBIRTH/e5', ndata(0, 50), { qos: 1 });
    await waitFor('the birth decoded', async () => (await samplesOut()) - samplesBefore === 50);
    await rt.jsm.streams.delete('RAW');
    for (let seq = 1; seq <= 10; seq++)
      await edge.publishAsync('spBv1.0/g5/NDATA/e5', ndata(seq, 50), { qos: 1 });
    await waitFor('the batch held in place', async () => (await holds()) > holdsBefore + 1);
    await ensureStream(rt.jsm, rawStream, rt.log);
    await waitFor('every message decoded', async () => (await samplesOut()) - samplesBefore === 11 * 50);
    assert.equal(await gaps(), gapsBefore, 'a retried batch went through the seq tracking again');
    await assertStoredOnce('g5/e5', 10, 50); // RAW was made anew after the birth
  });

  it('does not take a redelivered message for a seq gap', async () => {
    const gaps = counter(() => dec, 'seq-gap');
    const naks = counter(() => dec, 'retry');
    const [gapsBefore, naksBefore, samplesBefore] = [await gaps(), await naks(), await samplesOut()];
    await edge.publishAsync('spBv1.0/g6/NBIRTH/e6', ndata(0, 5), { qos: 1 });
    await waitFor('the birth decoded', async () => (await samplesOut()) - samplesBefore === 5);
    // RAW refuses the samples (too big): the batch is nak'ed and comes back as new deliveries
    const raw0 = await rt.jsm.streams.info('RAW');
    await rt.jsm.streams.update('RAW', { ...raw0.config, max_msg_size: 64 });
    for (let seq = 1; seq <= 3; seq++)
      await edge.publishAsync('spBv1.0/g6/NDATA/e6', ndata(seq, 5), { qos: 1 });
    await waitFor('a nak', async () => (await naks()) > naksBefore);
    await rt.jsm.streams.update('RAW', { ...raw0.config, max_msg_size: -1 });
    await waitFor('every message decoded', async () => (await samplesOut()) - samplesBefore === 4 * 5);
    assert.equal(await gaps(), gapsBefore, 'a redelivery was read as a seq gap');
    await assertStoredOnce('g6/e6', 4, 5);
  });

  it('reads again from its ack floor, in order, what a run that died was holding', async () => {
    await dec.stop();
    await edge.publishAsync('spBv1.0/g7/NBIRTH/e7', ndata(0, 5), { qos: 1 });
    for (let seq = 1; seq <= 4; seq++)
      await edge.publishAsync('spBv1.0/g7/NDATA/e7', ndata(seq, 5), { qos: 1 });
    const consumer = await rt.js.consumers.get('AUDIT', 'sparkplug-decode');
    await waitFor('the messages on AUDIT', async () => (await consumer.info()).num_pending >= 5);
    // a run that died mid-batch: three messages delivered to it, never acknowledged
    let held = 0;
    for await (const m of await consumer.fetch({ max_messages: 3, expires: 2000 })) if (m) held++;
    assert.equal(held, 3);
    assert.equal((await consumer.info()).num_ack_pending, 3);
    ({ rt: dec } = await runWorker(sparkplugDecodeModule, { env: decEnv, signals: false }));
    // well within the 30 s ack wait after which the held messages would come back, behind the others
    await waitFor('every message decoded', async () => (await samplesOut()) === 5 * 5);
    assert.equal(await counter(() => dec, 'seq-gap')(), 0, 'the messages came back out of order');
    await assertStoredOnce('g7/e7', 5, 5);
  });

  it('keeps its own STATE retained: online while it runs', async () => {
    const watcher = await mqtt.connectAsync(broker.url);
    const state = new Promise<{ online: boolean; timestamp: number }>((resolve) =>
      watcher.on('message', (_t, p) =>
        resolve(JSON.parse(p.toString()) as { online: boolean; timestamp: number }),
      ),
    );
    await watcher.subscribeAsync('spBv1.0/STATE/+', { qos: 1 });
    const s = await state;
    await watcher.endAsync();
    assert.equal(s.online, true);
    assert.ok(s.timestamp > 1_700_000_000_000);
  });
});
