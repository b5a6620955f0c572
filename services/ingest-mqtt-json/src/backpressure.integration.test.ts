import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { busway } from '@busway/proto';
import { runWorker, type WorkerRuntime } from '@busway/runtime';
import { startMosquitto, startNats, waitFor, type TestServer } from '@busway/testkit';
import { ingestMqttJsonModule } from './index.js';

describe('an MQTT bridge while JetStream is down: holds, pauses, retries, loses nothing', () => {
  let nats: TestServer;
  let broker: TestServer;
  let rt: WorkerRuntime;

  before(async () => {
    [nats, broker] = await Promise.all([startNats(), startMosquitto()]);
    ({ rt } = await runWorker(ingestMqttJsonModule, {
      env: {
        NATS_URL: nats.url,
        MQTT_URL: broker.url,
        BUSWAY_LOG_LEVEL: 'silent',
        BUSWAY_MQTT_CLIENT_ID: `json-bp-${process.pid}`,
        BUSWAY_MAX_BUFFER_BYTES: '100', // two or three messages: the socket pauses at once
        BUSWAY_RULES: JSON.stringify([
          {
            name: 'meter',
            topic: 'meters/{id}',
            source: 'meter/{id}',
            sequence: 'n',
            samples: [{ name: 'kw', value: 'kw', unit: 'kW' }],
          },
        ]),
      },
      signals: false,
    }));
  });
  after(async () => {
    await rt?.stop();
    await Promise.all([nats?.dispose(), broker?.dispose()]);
  });

  it('stores every message once JetStream is back, QoS 1 held unacknowledged, QoS 0 held with the socket paused', async () => {
    await nats.stop();
    const client = await mqtt.connectAsync(broker.url);
    // QoS 0 (Sparkplug's choice for data): held in arrival order; past the byte limit the socket pauses
    for (let n = 1; n <= 10; n++)
      await client.publishAsync(`meters/m${n % 3}`, JSON.stringify({ n, kw: n * 1.5 }), { qos: 0 });
    // QoS 1: taken one at a time (mqtt.js reads the next packet after the PUBACK), none acknowledged until stored
    for (let n = 11; n <= 20; n++)
      await client.publishAsync(`meters/m${n % 3}`, JSON.stringify({ n, kw: n * 1.5 }), { qos: 1 });
    await client.endAsync();
    await waitFor(
      'retries while JetStream is down',
      async () => (await rt.metrics.value('busway_messages_total', { outcome: 'store-retry' })) > 0,
    );
    await waitFor(
      'the source paused',
      async () => (await rt.metrics.value('busway_messages_total', { outcome: 'source-paused' })) > 0,
    );
    await nats.restart();

    const samples = await waitFor(
      'all 20 samples on RAW',
      async () => {
        const info = await rt.jsm.streams.info('RAW').catch(() => undefined);
        if (!info || info.state.messages < 20) return undefined;
        const out: busway.v1.ISample[] = [];
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
          const m = await rt.jsm.streams.getMessage('RAW', { seq });
          if (m) out.push(...busway.v1.SampleBatch.decode(m.data).samples);
        }
        return out;
      },
      60_000,
      250,
    );
    assert.deepEqual(
      samples.map((s) => s.doubleValue).sort((a, b) => (a ?? 0) - (b ?? 0)),
      Array.from({ length: 20 }, (_, i) => (i + 1) * 1.5),
    );
  });
});
