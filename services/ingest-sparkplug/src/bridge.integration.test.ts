import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { busway, Long, org } from '@busway/proto';
import { ensureStream, fabricStreams, Hdr, loadConfig, runWorker, type WorkerRuntime } from '@busway/runtime';
import { startMosquitto, startNats, waitFor, type TestServer } from '@busway/testkit';
import { ingestSparkplugModule } from './index.js';

const Payload = org.eclipse.tahu.protobuf.Payload;
const u64 = (n: number) => Long.fromNumber(n, true);

describe('Sparkplug bridge against real Mosquitto and nats-server', () => {
  let nats: TestServer;
  let broker: TestServer;
  let rt: WorkerRuntime;
  let edge: MqttClient;
  let env: Record<string, string>;

  before(async () => {
    [nats, broker] = await Promise.all([startNats(), startMosquitto()]);
    env = {
      NATS_URL: nats.url,
      MQTT_URL: broker.url,
      BUSWAY_LOG_LEVEL: 'silent',
      BUSWAY_MQTT_CLIENT_ID: `it-${process.pid}`,
      BUSWAY_REORDER_TIMEOUT_MS: '300',
    };
    loadConfig(ingestSparkplugModule.configSchema, { env }); // fails fast if the env is wrong
    ({ rt } = await runWorker(ingestSparkplugModule, { env, signals: false }));
    edge = await mqtt.connectAsync(broker.url);
  });
  after(async () => {
    await edge.endAsync();
    await rt.stop();
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

    const dlq = await rt.jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.v1.ingest-sparkplug' });
    assert.equal(dlq?.header.get(Hdr.DlqCode), 'decode-error');
    assert.equal(dlq?.header.get('mqtt-topic'), 'spBv1.0/g1/DDATA/e1/cdu-1');
    assert.equal(await rt.metrics.value('busway_dead_letters_total', { reason: 'decode-error' }), 1);
  });

  it('still resolves aliases after a restart, from the births kept in the KV bucket', async () => {
    await rt.stop();
    ({ rt } = await runWorker(ingestSparkplugModule, { env, signals: false }));
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
    assert.equal(await rt.metrics.value('busway_dead_letters_total', { reason: 'contract-violation' }), 0);
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
        (await rt.metrics.value('busway_dead_letters_total', { reason: 'contract-violation' })) === 2,
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(commands, ['spBv1.0/g1/NCMD/e2'], 'one request for a burst of unknown aliases');
    const dlq = await rt.jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.v1.ingest-sparkplug' });
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

  it('stores the samples of a message once when only its AUDIT copy failed, and acknowledges it once both are in', async () => {
    const samplesOut = async () =>
      (await rt.metrics.samples.get()).values.find((v) => v.labels.direction === 'out')?.value ?? 0;
    const audit = fabricStreams().find((s) => s.name === 'AUDIT');
    assert.ok(audit);
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
    const before = await samplesOut();
    await rt.jsm.streams.delete('AUDIT'); // the audit copy fails; the samples can be stored
    await edge.publishAsync('spBv1.0/g4/NDATA/e4', ndata(0, 50), { qos: 1 });
    await waitFor('the samples stored', async () => (await samplesOut()) - before === 50);
    const retries = async () =>
      (await rt.metrics.messages.get()).values.find((v) => v.labels.outcome === 'store-retry')?.value ?? 0;
    const retried = await retries();
    await waitFor('the audit copy refused and retried', async () => (await retries()) >= retried + 2);
    await ensureStream(rt.jsm, audit, rt.log);
    // later messages reuse the memory of the stored batch: what is stored must be what was sent
    for (let seq = 1; seq <= 20; seq++)
      await edge.publishAsync('spBv1.0/g4/NDATA/e4', ndata(seq, 50), { qos: 1 });
    await waitFor(
      'every message stored, the first one with its audit copy',
      async () => (await rt.jsm.streams.info('AUDIT')).state.messages >= 21,
    );
    // every message done: none held in the bridge's buffer, so each was acknowledged to the broker
    const held = async () => (await rt.metrics.bufferBytes.get()).values[0]?.value ?? 0;
    await waitFor('no message held', async () => (await held()) === 0);
    assert.equal(
      (await samplesOut()) - before,
      21 * 50,
      'a retry of the audit copy stored the samples again',
    );
    const stored = (await raw()).filter((s) => s.pointId?.startsWith('sparkplug:g4/e4:'));
    assert.equal(stored.length, 21 * 50);
    for (const s of stored) {
      const k = Number(s.pointId?.slice('sparkplug:g4/e4:m'.length));
      const seq = Math.floor((s.doubleValue ?? 0) / 1000);
      assert.equal(s.doubleValue, seq * 1000 + k, `${s.pointId} holds another message's value`);
    }
    assert.deepEqual(new Set(stored.map((s) => Math.floor((s.doubleValue ?? 0) / 1000))).size, 21);
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
