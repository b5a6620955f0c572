import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { busway } from '@busway/proto';
import { Hdr, runWorker, type WorkerRuntime } from '@busway/runtime';
import { startMosquitto, startNats, waitFor, type TestServer } from '@busway/testkit';
import { ingestMqttJsonModule } from './index.js';
import { UPLINK, UPLINK_TOPIC } from './test-fixtures.js';

describe('MQTT JSON bridge against real Mosquitto and nats-server', () => {
  let nats: TestServer;
  let broker: TestServer;
  let rt: WorkerRuntime;

  const raw = async () => {
    const info = await rt.jsm.streams.info('RAW');
    const out: busway.v1.ISample[] = [];
    for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
      const m = await rt.jsm.streams.getMessage('RAW', { seq });
      if (m) out.push(...busway.v1.SampleBatch.decode(m.data).samples);
    }
    return out;
  };

  before(async () => {
    [nats, broker] = await Promise.all([startNats(), startMosquitto()]);
    const rules = [
      {
        name: 'cdu-json',
        topic: 'plant/{row}/cdu/{cdu}',
        source: 'cdu/{cdu}',
        time: 'ts',
        samples: [
          { name: 'supply', value: 'temps.supply', unit: 'degC' },
          { name: 'flow', value: 'flow', unit: 'LPM' },
        ],
      },
    ];
    ({ rt } = await runWorker(ingestMqttJsonModule, {
      env: {
        NATS_URL: nats.url,
        MQTT_URL: broker.url,
        BUSWAY_LOG_LEVEL: 'silent',
        BUSWAY_MQTT_CLIENT_ID: `json-it-${process.pid}`,
        BUSWAY_RULES: JSON.stringify(rules),
        BUSWAY_PRESETS: 'chirpstack-v4,ble-gateway',
        BUSWAY_BLE_ZONES: JSON.stringify({ 'gw-1': 'calibration-lab' }),
      },
      signals: false,
    }));
  });
  after(async () => {
    await rt?.stop();
    await Promise.all([nats?.dispose(), broker?.dispose()]);
  });

  it('maps a rule of its own, a LoRaWAN uplink and a BLE report; dead-letters what does not fit', async () => {
    const client = await mqtt.connectAsync(broker.url);
    await client.publishAsync(
      'plant/r1/cdu/cdu-1',
      JSON.stringify({ ts: 1_800_000_000_000, temps: { supply: 30.5 }, flow: 250 }),
      { qos: 1 },
    );
    await client.publishAsync(UPLINK_TOPIC, JSON.stringify(UPLINK), { qos: 1 });
    await client.publishAsync(
      'ble/gw-1/report',
      JSON.stringify([{ mac: 'C300AA', rssi: -60, timestamp: 1_800_000_000 }]),
      { qos: 1 },
    );
    await client.publishAsync('plant/r1/cdu/cdu-2', '{"ts": 1800000000000, "temps": {}}', { qos: 1 }); // no supply
    await client.publishAsync(UPLINK_TOPIC, 'not json', { qos: 1 });
    await client.endAsync();

    const all = await waitFor('every mapped sample', async () => {
      const s = await raw();
      return s.some((x) => x.pointId === 'mqtt:ble/C300AA:zone') && s.length >= 10 ? s : undefined;
    });
    const by = new Map(all.map((s) => [s.pointId, s]));
    assert.equal(by.get('mqtt:cdu/cdu-1:supply')?.doubleValue, 30.5);
    assert.equal(by.get('mqtt:cdu/cdu-1:flow')?.unit, 'LPM');
    assert.equal(by.get('mqtt:lorawan/0101010101010101:humidity')?.doubleValue, 41);
    assert.equal(by.get('mqtt:ble/C300AA:zone')?.stringValue, 'calibration-lab');
    assert.equal(all.filter((s) => s.pointId?.startsWith('mqtt:cdu/cdu-2')).length, 0);

    await waitFor('two dead letters', async () => (await rt.jsm.streams.info('DLQ')).state.messages === 2);
    const codes: string[] = [];
    for (const seq of [1, 2])
      codes.push((await rt.jsm.streams.getMessage('DLQ', { seq }))?.header.get(Hdr.DlqCode) ?? '');
    assert.deepEqual(codes.sort(), ['contract-violation', 'decode-error']);
    const audit = await rt.jsm.streams.info('AUDIT');
    assert.equal(audit.state.messages, 5, 'every message kept as it came, the rejected ones too');
  });
});
