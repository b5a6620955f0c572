import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { jetstream } from '@nats-io/jetstream';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import { busway, msFromTimeNs } from '@busway/proto';
import { fetchRegistry } from '@busway/registry';
import { Hdr, runWorker, type WorkerRuntime } from '@busway/runtime';
import { normalizerModule } from '@busway/normalizer';
import { startMosquitto, startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { ingestDsxModule } from './index.js';
import { readCapture, replay, type Recorded } from './replay.js';
import { parseBmsTopic, pointKeyOf } from './topic.js';

const capture = readCapture(join(dirname(fileURLToPath(import.meta.url)), '../fixtures/dsx_exemplar.csv'));
// 1 = the recorded offsets (about 100 s); a larger factor replays faster while developing
const SPEED = Number(process.env.BUSWAY_DSX_REPLAY_SPEED ?? 1);

/** Every sample in a stream, read with an ordered consumer. */
async function samplesIn(rt: WorkerRuntime, stream: string): Promise<busway.v1.ISample[]> {
  const info = await rt.jsm.streams.info(stream);
  if (info.state.messages === 0) return [];
  const consumer = await jetstream(rt.nc).consumers.get(stream);
  const out: busway.v1.ISample[] = [];
  for await (const m of await consumer.consume()) {
    out.push(...busway.v1.SampleBatch.decode(m.data).samples);
    if (m.seq >= info.state.last_seq || m.info.pending === 0) break;
  }
  return out;
}

describe('DSX Exchange BMS bridge: the exemplar capture through real Mosquitto, nats-server and Redis', () => {
  let nats: TestServer;
  let redis: TestServer;
  let broker: TestServer;
  let bridge: WorkerRuntime;
  let normalizer: WorkerRuntime;
  let sent: Recorded[];

  before(async () => {
    [nats, redis, broker] = await Promise.all([startNats(), startRedis(), startMosquitto()]);
    const env = {
      NATS_URL: nats.url,
      REDIS_URL: redis.url,
      MQTT_URL: broker.url,
      BUSWAY_SITE: 'titan',
      BUSWAY_LOG_LEVEL: 'silent',
    };
    ({ rt: normalizer } = await runWorker(normalizerModule, { env, signals: false }));
    ({ rt: bridge } = await runWorker(ingestDsxModule, { env, signals: false }));
    const client = await mqtt.connectAsync(broker.url);
    sent = await replay(client, capture, SPEED);
    await client.endAsync();
  });
  after(async () => {
    await bridge?.stop();
    await normalizer?.stop();
    await Promise.all([nats?.dispose(), redis?.dispose(), broker?.dispose()]);
  });

  it('turns every value into a raw sample, and dead-letters nothing', async () => {
    const values = sent.filter((r) => r.topic.includes('/Value/')).length;
    assert.equal(values, 4545);
    await waitFor(
      'every value on RAW',
      async () => (await samplesIn(bridge, 'RAW')).length === values,
      30_000,
      500,
    );
    const dlq = await bridge.jsm.streams.info('DLQ');
    const reasons: string[] = [];
    for (let seq = dlq.state.first_seq; dlq.state.messages > 0 && seq <= dlq.state.last_seq; seq++) {
      const m = await bridge.jsm.streams.getMessage('DLQ', { seq });
      reasons.push(`${m?.subject}: ${m?.header.get(Hdr.DlqReason)}`);
    }
    assert.deepEqual(reasons, []);
  });

  it('puts the power chain and the cooling topology into the registry', async () => {
    const conn = new Redis(redis.url);
    try {
      const registry = await fetchRegistry(conn, 'titan');
      assert.deepEqual(
        registry
          .feedersOf('Pod1C-E05')
          .map((a) => a.id)
          .sort(),
        ['C-E-BUS-E1', 'C-E-BUS-E2', 'C-E05-TAP-E1', 'C-E05-TAP-E2'],
      );
      assert.ok(registry.coolersOf('Pod1C-E02').some((a) => a.id === 'C-F00-CDU-05'));
    } finally {
      conn.disconnect();
    }
  });

  it('normalizes every value point with its unit and its asset', async () => {
    await waitFor('the normalizer drained RAW', async () => {
      const c = await normalizer.jsm.consumers.info('RAW', 'normalizer');
      return c.num_pending === 0 && c.num_ack_pending === 0;
    });
    const conn = new Redis(redis.url);
    const registry = await fetchRegistry(conn, 'titan');
    conn.disconnect();

    // the last value sent for each point, and the last normalized sample of it
    const lastSent = new Map<string, { value: number | null; meta?: string }>();
    for (const r of sent) {
      const t = parseBmsTopic(r.topic);
      if (t.kind === 'Value') lastSent.set(pointKeyOf(t), JSON.parse(r.payload) as { value: number | null });
    }
    const lastNorm = new Map<string, busway.v1.ISample>();
    for (const s of await samplesIn(normalizer, 'NORM')) {
      const prev = lastNorm.get(s.pointId ?? '');
      if (!prev || msFromTimeNs(s.eventTimeNs) >= msFromTimeNs(prev.eventTimeNs))
        lastNorm.set(s.pointId ?? '', s);
    }
    assert.equal(lastNorm.size, lastSent.size, 'every value point came out of the normalizer');

    const expectedUnit: Record<string, string> = {
      kW: 'W',
      kVA: 'V.A',
      C: 'Cel',
      LPM: 'L/min',
      '%RH': '%',
      Pa: 'kPa',
    };
    for (const [key, v] of lastSent) {
      const s = lastNorm.get(`dsx-bms:${key}`);
      const point = registry.point(`dsx-bms:${key}`);
      assert.ok(point, `${key} is in the registry`);
      assert.equal(s?.unregistered, false, `${key} is registered`);
      assert.equal(s?.path?.asset, point.asset, `${key} belongs to ${point.asset}`);
      assert.equal(s?.metric, point.metric);
      if (point.unit && v.value !== null) {
        assert.equal(s?.unit, expectedUnit[point.unit] ?? point.unit, `${key}: ${point.unit}`);
        const factor = point.unit === 'kW' || point.unit === 'kVA' ? 1000 : point.unit === 'Pa' ? 0.001 : 1;
        assert.ok(
          Math.abs((s?.doubleValue ?? NaN) - v.value * factor) < 1e-6,
          `${key}: ${v.value} ${point.unit}`,
        );
      }
    }
  });
});
