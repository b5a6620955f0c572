import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { startDurableMosquitto, startMosquitto, waitFor, type TestServer } from '@busway/testkit';
import { createLogger } from './logger.js';
import { connectMqttIngest } from './mqtt-ingest.js';

/** A store the test completes by hand, one message at a time (a body received twice is two stores). */
class ManualStore {
  readonly started: string[] = [];
  private readonly pending = new Map<string, (() => void)[]>();

  readonly process = (_topic: string, payload: Buffer): Promise<void> => {
    const body = payload.toString();
    this.started.push(body);
    return new Promise((resolve) => this.pending.set(body, [...(this.pending.get(body) ?? []), resolve]));
  };

  /** Completes the oldest store in progress of each body. */
  complete(...bodies: string[]): void {
    for (const b of bodies) this.pending.get(b)?.shift()?.();
  }
}

const log = createLogger('mqtt-ingest-test', 'silent');
const tick = () => new Promise((r) => setImmediate(r));

describe('an MQTT ingest session (QoS 1)', () => {
  let broker: TestServer;
  let publisher: MqttClient;

  before(async () => {
    broker = await startMosquitto();
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'publisher' });
  });
  after(async () => {
    await publisher.endAsync();
    await broker.dispose();
  });

  /** Connects the bridge session `clientId`, subscribed to `<clientId>/#` at QoS 1. */
  async function session(clientId: string, process: ManualStore['process']): Promise<MqttClient> {
    const client = await connectMqttIngest(
      { mqttUrl: broker.url, mqttClientId: clientId, receiveMaximum: 16 },
      log,
      process,
    );
    await client.subscribeAsync(`${clientId}/#`, { qos: 1 });
    return client;
  }

  /** What the broker delivers again to a new session of `clientId`: the messages it holds unacknowledged. */
  async function redelivered(clientId: string): Promise<string[]> {
    const store = new ManualStore();
    const client = await session(clientId, store.process);
    // the broker sends a session's unacknowledged messages before new ones: once the marker is in, they all are
    await publisher.publishAsync(`${clientId}/x`, 'marker', { qos: 1 });
    await waitFor('the marker', async () => store.started.includes('marker'));
    await client.endAsync(true);
    return store.started.filter((m) => m !== 'marker').sort();
  }

  it('stores every message in flight at once instead of one at a time', async () => {
    const store = new ManualStore();
    const client = await session('concurrent', store.process);
    for (const m of ['m1', 'm2', 'm3', 'm4', 'm5'])
      await publisher.publishAsync('concurrent/x', m, { qos: 1 });
    // none is stored yet, and all five are being stored: the next message did not wait for the previous PUBACK
    await waitFor('five stores in progress', async () => store.started.length === 5);
    assert.deepEqual(store.started, ['m1', 'm2', 'm3', 'm4', 'm5']);
    store.complete('m1', 'm2', 'm3', 'm4', 'm5');
    await tick();
    await client.endAsync();
    assert.deepEqual(await redelivered('concurrent'), []);
  });

  it('acknowledges a stored message only after every earlier one is stored too', async () => {
    const store = new ManualStore();
    const client = await session('ordered', store.process);
    for (const m of ['m1', 'm2', 'm3', 'm4']) await publisher.publishAsync('ordered/x', m, { qos: 1 });
    await waitFor('four stores in progress', async () => store.started.length === 4);
    store.complete('m2', 'm4'); // stored out of order: m1 still unstored holds back every later PUBACK
    await tick();
    await client.endAsync();
    assert.deepEqual(await redelivered('ordered'), ['m1', 'm2', 'm3', 'm4']);
  });

  it('acknowledges the stored prefix and leaves the rest with the broker', async () => {
    const store = new ManualStore();
    const client = await session('prefix', store.process);
    for (const m of ['m1', 'm2', 'm3', 'm4']) await publisher.publishAsync('prefix/x', m, { qos: 1 });
    await waitFor('four stores in progress', async () => store.started.length === 4);
    store.complete('m1', 'm2', 'm4');
    await tick();
    await client.endAsync();
    assert.deepEqual(await redelivered('prefix'), ['m3', 'm4']);
  });

  it('stores what it held through an outage in arrival order, before what arrived since', async () => {
    let down = true;
    const stored: string[] = [];
    let failures = 0;
    const client = await session('outage', async (_topic, payload) => {
      if (down) {
        failures++;
        throw new Error('JetStream unreachable');
      }
      stored.push(payload.toString());
    });
    try {
      for (const m of ['m1', 'm2', 'm3', 'm4', 'm5']) await publisher.publishAsync('outage/x', m, { qos: 1 });
      await waitFor('each message tried once', async () => failures >= 5);
      await new Promise((r) => setTimeout(r, 1600));
      // one probe per backoff (100, 200, 400, 800 ms), not one try per message held (25 by now)
      assert.ok(failures <= 9, `${failures} tries in 1.6 s of outage`);
      await waitFor('a probe after the 800 ms backoff', async () => failures >= 9);
      down = false;
      for (const m of ['m6', 'm7', 'm8']) await publisher.publishAsync('outage/x', m, { qos: 1 });
      await waitFor('all eight stored', async () => stored.length === 8, 10_000);
      assert.deepEqual(stored, ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']);
    } finally {
      await client.endAsync(); // its retries stop: a failed check must not keep the test process alive
    }
    assert.deepEqual(await redelivered('outage'), []);
  });
});

describe('an MQTT ingest session across a broker restart', () => {
  let broker: TestServer;

  before(async () => {
    broker = await startDurableMosquitto();
  });
  after(async () => {
    await broker.dispose();
  });

  it('acknowledges nothing on a new connection for a message of the old one: the broker sends it again', async () => {
    const store = new ManualStore();
    const config = { mqttUrl: broker.url, mqttClientId: 'across', receiveMaximum: 16 };
    const client = await connectMqttIngest(config, log, store.process);
    await client.subscribeAsync('across/#', { qos: 1 });
    const publisher = await mqtt.connectAsync(broker.url, { clientId: 'publisher-across' });
    for (const m of ['m1', 'm2', 'm3']) await publisher.publishAsync('across/x', m, { qos: 1 });
    await publisher.endAsync();
    await waitFor('three stores in progress', async () => store.started.length === 3);
    await broker.restart(); // the session and its unacknowledged messages survive on disk
    await waitFor('the broker sent them again', async () => store.started.length === 6, 20_000);
    store.complete('m1', 'm2', 'm3'); // the stores of the first connection end: their PUBACKs are withheld
    await tick();
    await client.endAsync();

    const again = new ManualStore();
    const next = await connectMqttIngest(config, log, again.process);
    const marker = await mqtt.connectAsync(broker.url, { clientId: 'marker-across' });
    await marker.publishAsync('across/x', 'marker', { qos: 1 });
    await marker.endAsync();
    await waitFor('the marker', async () => again.started.includes('marker'));
    await next.endAsync(true);
    assert.deepEqual(again.started.filter((m) => m !== 'marker').sort(), ['m1', 'm2', 'm3']);
  });
});
