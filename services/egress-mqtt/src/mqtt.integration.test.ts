import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import mqtt, { type MqttClient } from 'mqtt';
import { parse } from 'yaml';
import { busway, EventTypes, timeNsFromMs, unsSubject } from '@busway/proto';
import { fabricHeaders, Hdr, runWorker, type WorkerRuntime } from '@busway/runtime';
import { startMosquitto, startNats, waitFor, type TestServer } from '@busway/testkit';
import { durableOf, egressMqttModule } from './index.js';

const contract = parse(readFileSync(new URL('../fixtures/bms.yaml', import.meta.url), 'utf8')) as {
  components: { messages: { ValueMessage: { payload: object } } };
};
const validateValue = new Ajv({ strict: false }).compile(contract.components.messages.ValueMessage.payload);

const T = 1_800_000_000_000;
const cduPath = { site: 'ai1', hall: 'h1', row: 'r1', rack: 'plant-r1', assetClass: 'cdu', asset: 'cdu-r1' };
const sample = (metric: string, v: number, t = T, path = cduPath) => ({
  pointId: `p:${path.asset}:${metric}`,
  path,
  metric,
  doubleValue: v,
  unit: 'Cel',
  eventTimeNs: timeNsFromMs(t),
  quality: busway.v1.Quality.QUALITY_GOOD,
});

interface Got {
  topic: string;
  payload: string;
  retain: boolean;
}

describe('MQTT egress against real nats-server and Mosquitto', () => {
  let nats: TestServer;
  let broker: TestServer;
  let rt: WorkerRuntime;
  let sub: MqttClient;
  const got: Got[] = [];
  let n = 0;
  const publishSample = async (s: ReturnType<typeof sample>) => {
    const id = `s-${++n}`;
    await rt.js.publish(
      unsSubject(s.path, s.metric),
      busway.v1.SampleBatch.encode({ samples: [s] }).finish(),
      {
        headers: fabricHeaders({ type: EventTypes.SampleBatch, source: '/busway/fanout', id }),
        msgID: id,
      },
    );
  };
  const on = (prefix: string) => got.filter((g) => g.topic.startsWith(prefix));

  before(async () => {
    [nats, broker] = await Promise.all([startNats(), startMosquitto()]);
    sub = await mqtt.connectAsync(broker.url, { clientId: 'test-sub', reconnectPeriod: 200 });
    sub.on('message', (topic, payload, packet) =>
      got.push({ topic, payload: payload.toString(), retain: packet.retain }),
    );
    await sub.subscribeAsync(['busway/#', 'BMS/#', 'ops/#'], { qos: 1 });
    const mappings = [
      { name: 'uns', subjects: ['uns.v1.*.*.*.*.cdu.>'], style: 'uns', retain: true },
      { name: 'dsx', subjects: ['uns.v1.*.*.*.*.rack.>'], style: 'dsx', integration: 'BUSWAY' },
      { name: 'alarms', subjects: ['alarm.v1.>'], style: 'subject', prefix: 'ops' },
    ];
    ({ rt } = await runWorker(egressMqttModule, {
      env: {
        NATS_URL: nats.url,
        MQTT_URL: broker.url,
        BUSWAY_LOG_LEVEL: 'silent',
        BUSWAY_MAPPINGS: JSON.stringify(mappings),
        BUSWAY_NAK_DELAY_MS: '200',
        BUSWAY_MAX_DELIVER: '100',
        BUSWAY_PUBLISH_TIMEOUT_MS: '1000',
      },
      signals: false,
    }));
  });
  after(async () => {
    await rt.stop();
    await sub.endAsync(true);
    await Promise.all([nats.dispose(), broker.dispose()]);
  });

  it('republishes UNS samples on UNS-style topics, retained, so a late subscriber gets the last value at once', async () => {
    await publishSample(sample('temperature.coolant.return', 41.5));
    await publishSample(sample('temperature.coolant.return', 42.5, T + 1000));
    const topic = 'busway/ai1/h1/r1/plant-r1/cdu/cdu-r1/temperature/coolant/return';
    await waitFor('two values', () => on(topic).length >= 2);
    assert.deepEqual(
      on(topic).map((g) => (JSON.parse(g.payload) as { value: number }).value),
      [41.5, 42.5],
    );
    const v = JSON.parse(on(topic)[1]?.payload ?? '') as Record<string, unknown>;
    assert.equal(v.unit, 'Cel');
    assert.equal(v.quality, 'good');
    assert.equal(v.time, '2027-01-15T08:00:01.000000000Z');

    const late = await mqtt.connectAsync(broker.url, { clientId: 'late-sub' });
    const retained = new Promise<Got>((resolve) =>
      late.on('message', (t, p, packet) =>
        resolve({ topic: t, payload: p.toString(), retain: packet.retain }),
      ),
    );
    await late.subscribeAsync(topic, { qos: 1 });
    const last = await retained;
    await late.endAsync();
    assert.equal(last.retain, true);
    assert.equal((JSON.parse(last.payload) as { value: number }).value, 42.5);
  });

  it('republishes rack samples DSX-style: contract topics and a value payload the contract schema accepts', async () => {
    const rack = { ...cduPath, rack: 'rack-a01', assetClass: 'rack', asset: 'rack-a01' };
    await publishSample({ ...sample('temperature.coolant.supply', 30.25, T, rack), unit: 'Cel' });
    await publishSample({ ...sample('power.active', 41_000, T, rack), unit: 'W' });
    await waitFor('two DSX values', () => on('BMS/').length >= 2);
    const byTopic = new Map(on('BMS/').map((g) => [g.topic, JSON.parse(g.payload) as unknown]));
    assert.deepEqual(
      byTopic.get(
        'BMS/v1/BUSWAY/Value/Rack/RackLiquidSupplyTemperature/ai1/h1/r1/rack-a01/rack-a01/temperature/coolant/supply',
      ),
      {
        value: 30.25,
        timestamp: T,
        quality: 1,
      },
    );
    assert.deepEqual(
      byTopic.get('BMS/v1/BUSWAY/Value/Rack/RackPower/ai1/h1/r1/rack-a01/rack-a01/power/active'),
      {
        value: 41_000,
        timestamp: T,
        quality: 1,
      },
    );
    for (const payload of byTopic.values())
      assert.ok(validateValue(payload), JSON.stringify(validateValue.errors));
  });

  it('publishes alarms from the control tier as CloudEvents under their subject', async () => {
    const data = busway.v1.EventBatch.encode({
      events: [
        {
          id: 'al-1',
          kind: busway.v1.EventKind.EVENT_KIND_ALARM,
          alarm: { alarmId: 'al-1', severity: 'major', active: true },
        },
      ],
    }).finish();
    await rt.js.publish('alarm.v1.ai1.h1.r1.rack-a01', data, {
      headers: fabricHeaders({ type: EventTypes.EventBatch, source: '/busway/anomaly', id: 'al-1:raise' }),
      msgID: 'al-1:raise',
    });
    const [alarm] = await waitFor('the alarm', () => (on('ops/').length > 0 ? on('ops/') : undefined));
    assert.equal(alarm?.topic, 'ops/alarm/v1/ai1/h1/r1/rack-a01');
    const ce = JSON.parse(alarm?.payload ?? '') as {
      id: string;
      type: string;
      data: { events: { alarm: { severity: string } }[] };
    };
    assert.equal(ce.id, 'al-1:raise');
    assert.equal(ce.type, EventTypes.EventBatch);
    assert.equal(ce.data.events[0]?.alarm.severity, 'major');
  });

  it('keeps samples unacknowledged while the broker is down and publishes every one once it is back', async () => {
    await broker.stop();
    for (let i = 0; i < 5; i++) await publishSample(sample('flow.coolant', 100 + i, T + 10_000 + i));
    await waitFor(
      'publishes refused while the broker is away',
      async () =>
        (await rt.metrics.value('busway_messages_total', { stage: 'egress', outcome: 'retry' })) >= 1,
    );
    const held = await rt.jsm.consumers.info('UNS', durableOf('uns', 'uns.v1.*.*.*.*.cdu.>'));
    assert.equal(held.num_pending + held.num_ack_pending, 5, 'all five still in JetStream, none acked');
    await broker.restart();
    await waitFor(
      'all five after the restart',
      () => new Set(on('busway/ai1/h1/r1/plant-r1/cdu/cdu-r1/flow/coolant').map((g) => g.payload)).size === 5,
      20_000,
    );
  });

  it('dead-letters a samples message that does not decode, with the reason', async () => {
    await rt.js.publish(
      'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-r1.flow.coolant',
      new Uint8Array([0x0a, 0xff, 0xff]),
      {
        headers: fabricHeaders({ type: EventTypes.SampleBatch, source: '/test', id: 'garbage' }),
        msgID: 'garbage',
      },
    );
    const dead = await waitFor('dead letter', () =>
      rt.jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.v1.egress-mqtt' }).catch(() => undefined),
    );
    assert.equal(dead.header.get(Hdr.DlqCode), 'decode-error');
  });
});
