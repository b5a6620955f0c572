import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { apiModule, hashToken } from '@busway/api';
import { ingestDsxModule } from '@busway/ingest-dsx';
import { normalizerModule } from '@busway/normalizer';
import { runWorker, type WorkerRuntime } from '@busway/runtime';
import { freePort, startMosquitto, startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { commandModule } from './index.js';
import { statesOf } from './test-support.js';

const WRITE = 'operator-token-0123456789abcdef012345';
const READ = 'dashboard-token-0123456789abcdef01234';
const TOKENS = [
  { name: 'operator', sha256: hashToken(WRITE), scopes: ['read', 'write'] },
  { name: 'dashboard', sha256: hashToken(READ), scopes: ['read'] },
];
const ROOT = 'BMS/v1';
const REQUEST = 'CDU/LiquidTemperatureSpRequest/site1/hallA/cdu5/sp/request';
const ACTIVE = 'CDU/LiquidTemperature/site1/hallA/cdu5/sp/active';
const FOREIGN = 'CDU/LiquidTemperatureSpRequest/site1/hallA/cdu6/sp/request';
const cdu = (id: string, extra: Record<string, unknown>) => ({
  objectType: 'CDU',
  objectId: id,
  objectName: id,
  engUnit: 'F',
  processArea: ['Secondary', 'Supply'],
  ...extra,
});
const RULES = [
  {
    point: `dsx-bms:${REQUEST}`,
    min: 18,
    max: 30,
    maxStep: 4,
    minIntervalMs: 60_000,
    readback: `dsx-bms:${ACTIVE}`,
    tolerance: 0.1,
  },
  { point: `dsx-bms:${FOREIGN}`, min: 18, max: 30, minIntervalMs: 0, readback: `dsx-bms:${ACTIVE}` },
];

describe('DSX write-back through the REST API: integration value topic, BMS readback, 4xx refusals', () => {
  let nats: TestServer;
  let redisServer: TestServer;
  let broker: TestServer;
  let bms: MqttClient;
  let api: WorkerRuntime;
  let rt: WorkerRuntime;
  const workers: WorkerRuntime[] = [];
  let base = '';
  /** What the BMS received from integrations: topic and payload. */
  const written: {
    topic: string;
    payload: Record<string, unknown>;
    expirySeconds?: number;
    retain: boolean;
  }[] = [];

  const post = (body: unknown, token = WRITE, headers: Record<string, string> = {}) =>
    fetch(`${base}/v1/commands`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const get = (path: string, token = READ) =>
    fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const body = async (res: Response) => (await res.json()) as Record<string, unknown>;

  before(async () => {
    [nats, redisServer, broker] = await Promise.all([startNats(), startRedis(), startMosquitto()]);
    bms = await mqtt.connectAsync(broker.url, { clientId: `bms-${process.pid}`, protocolVersion: 5 });
    // the BMS: metadata (retained), its active setpoint, and the integration value it acts on
    const meta = (key: string, m: object) =>
      bms.publishAsync(`${ROOT}/PUB/Metadata/${key}`, JSON.stringify(m), { qos: 1, retain: true });
    await meta(REQUEST, cdu('CDU-05', { pointType: 'LiquidTemperatureSpRequest', integration: 'BUSWAY' }));
    await meta(ACTIVE, cdu('CDU-05', { pointType: 'LiquidTemperature', isSetpoint: true }));
    await meta(FOREIGN, cdu('CDU-06', { pointType: 'LiquidTemperatureSpRequest', integration: 'MEPAI' }));
    const active = (valueF: number) =>
      bms.publishAsync(
        `${ROOT}/PUB/Value/${ACTIVE}`,
        JSON.stringify({ value: valueF, timestamp: Date.now(), quality: 1 }),
        { qos: 1 },
      );
    await bms.subscribeAsync(`${ROOT}/+/Value/#`, { qos: 1 });
    bms.on('message', (topic, payload, packet) => {
      if (topic.startsWith(`${ROOT}/PUB/`)) return; // its own values
      const value = JSON.parse(payload.toString()) as Record<string, unknown>;
      written.push({
        topic,
        payload: value,
        expirySeconds: packet.properties?.messageExpiryInterval,
        retain: packet.retain,
      });
      if (topic === `${ROOT}/BUSWAY/Value/${REQUEST}` && typeof value.value === 'number')
        void active(value.value);
    });

    const port = await freePort();
    const common = {
      NATS_URL: nats.url,
      REDIS_URL: redisServer.url,
      MQTT_URL: broker.url,
      BUSWAY_LOG_LEVEL: 'silent',
      BUSWAY_SITE: 'ai1',
    };
    for (const [mod, env] of [
      [normalizerModule, {}],
      [
        ingestDsxModule,
        { BUSWAY_MQTT_CLIENT_ID: `dsx-bridge-${process.pid}`, BUSWAY_REGISTRY_DEBOUNCE_MS: '50' },
      ],
      [
        apiModule,
        {
          BUSWAY_API_PORT: String(port),
          BUSWAY_API_HOST: '127.0.0.1',
          BUSWAY_TOKENS: JSON.stringify(TOKENS),
        },
      ],
      [
        commandModule,
        {
          BUSWAY_RULES: JSON.stringify(RULES),
          BUSWAY_READBACK_SOURCE: 'norm',
          BUSWAY_DSX_INTEGRATION: 'BUSWAY',
        },
      ],
    ] as const) {
      const { rt: w } = await runWorker(mod as typeof commandModule, {
        env: { ...common, ...env },
        signals: false,
      });
      workers.push(w);
    }
    [, , api, rt] = workers as [WorkerRuntime, WorkerRuntime, WorkerRuntime, WorkerRuntime];
    base = `http://127.0.0.1:${port}`;
    // the bridge merges the BMS metadata into the registry, then the active setpoint (22 Cel) is read back: a
    // probe 8 K away is refused as unknown (404), then blind (503), and at last as a step too large (422)
    await waitFor(
      'the registry knows the points and the readback has a value',
      async () => {
        await active(71.6);
        const res = await post({
          pointId: `dsx-bms:${REQUEST}`,
          value: 29.9,
          reason: 'probe: never delivered',
        });
        const b = await body(res);
        return res.status === 422 && b.error === 'step-too-large' ? b : undefined;
      },
      30_000, // bridge, normalizer and registry reload in turn: slow when the machine is busy
      250,
    );
  });

  after(async () => {
    await bms?.endAsync();
    for (const w of workers.reverse()) await w.stop();
    await Promise.all([nats?.dispose(), redisServer?.dispose(), broker?.dispose()]);
  });

  it("publishes a setpoint on the integration's value topic in the contract's shape, answers 202 and confirms it from the BMS", async () => {
    const res = await post({
      pointId: `dsx-bms:${REQUEST}`,
      value: 25,
      unit: 'Cel',
      reason: 'raise supply to 25 C',
      ttlMs: 30_000,
    });
    const accepted = await body(res);
    assert.equal(res.status, 202, JSON.stringify(accepted));
    assert.equal(accepted.state, 'accepted');
    const id = String(accepted.id);
    assert.equal(res.headers.get('location'), `/v1/commands/${id}`);
    const view = await waitFor('confirmed', async () => {
      const b = await body(await get(`/v1/commands/${id}`));
      return b.state === 'confirmed' ? b : undefined;
    });
    const [w] = written;
    assert.equal(written.length, 1);
    assert.equal(w?.topic, `${ROOT}/BUSWAY/Value/${REQUEST}`);
    assert.deepEqual(
      Object.keys(w?.payload ?? {}).sort(),
      ['quality', 'timestamp', 'value'],
      'exactly the contract fields',
    );
    assert.ok(Math.abs(Number(w?.payload.value) - 77) < 1e-9, '25 Cel is 77 F');
    assert.equal(w?.payload.quality, 1);
    assert.equal(w?.retain, false, 'never retained: a device connecting later must not get it');
    assert.ok(
      (w?.expirySeconds ?? 0) >= 1 && (w?.expirySeconds ?? 99) <= 30,
      `MQTT 5 expiry ${w?.expirySeconds} s: the ttl left`,
    );
    assert.ok(Math.abs(Number(w?.payload.timestamp) - Date.now()) < 60_000, 'epoch milliseconds');
    const statuses = view.statuses as Record<string, unknown>[];
    assert.deepEqual(
      statuses.map((s) => s.state),
      ['accepted', 'sent', 'confirmed'],
    );
    assert.equal(statuses[1]?.protocol, 'dsx-bms');
    assert.equal(statuses[1]?.sourceUnit, 'F');
    assert.ok(Math.abs(Number(statuses[2]?.observedValue) - 25) < 1e-9);
    assert.equal(view.requestedBy, 'operator');
    assert.equal(view.reason, 'raise supply to 25 C');
    assert.deepEqual(
      await statesOf(rt.jsm, id),
      ['accepted', 'sent', 'confirmed'],
      'every step on the CONTROL stream',
    );
  });

  it('refuses with 4xx and the reason, and nothing reaches the BMS: rate-limited, out of bounds, foreign, unwritable, malformed, read-only token', async () => {
    const before = written.length;
    const limited = await post({ pointId: `dsx-bms:${REQUEST}`, value: 26, reason: 'again, at once' });
    const lb = await body(limited);
    assert.equal(limited.status, 429, JSON.stringify(lb));
    assert.equal(lb.error, 'rate-limited');
    assert.match(String(lb.reason), /one command per 60000 ms/);
    const oob = await post({ pointId: `dsx-bms:${REQUEST}`, value: 35, reason: 'too hot' });
    assert.equal(oob.status, 422);
    assert.match(String((await body(oob)).reason), /35 is outside \[18, 30\]/);
    const foreign = await post({ pointId: `dsx-bms:${FOREIGN}`, value: 24, reason: 'not ours' });
    assert.equal(foreign.status, 409);
    assert.match(String((await body(foreign)).reason), /names integration 'MEPAI'/);
    const readback = await post({ pointId: `dsx-bms:${ACTIVE}`, value: 24, reason: "the BMS's own point" });
    assert.equal(readback.status, 403);
    assert.equal((await body(readback)).error, 'not-writable');
    const malformed = await post({ pointId: `dsx-bms:${REQUEST}`, value: 'hot', reason: 'x' });
    assert.equal(malformed.status, 400);
    assert.equal((await body(malformed)).error, 'bad-command');
    const reader = await post({ pointId: `dsx-bms:${REQUEST}`, value: 24, reason: 'x' }, READ);
    assert.equal(reader.status, 403);
    assert.equal((await body(reader)).error, 'missing-scope');
    assert.equal(written.length, before, 'the BMS received nothing');
    const refused = (code: string) => api.metrics.value('busway_api_rejections_total', { code });
    assert.equal(await refused('rate-limited'), 1, 'every refusal is counted (and logged) with its reason');
    assert.equal(await refused('not-deliverable'), 1);
  });

  it('answers a repeated request with the same command, and refuses an idempotency key reused for another body', async () => {
    const first = await post({ pointId: `dsx-bms:${FOREIGN}`, value: 21, reason: 'keyed' }, WRITE, {
      'idempotency-key': 'plan-7',
    });
    assert.equal(first.status, 409);
    assert.equal((await body(first)).error, 'not-deliverable');
    const again = await post({ pointId: `dsx-bms:${FOREIGN}`, value: 21, reason: 'keyed' }, WRITE, {
      'idempotency-key': 'plan-7',
    });
    assert.equal(again.status, 200);
    const view = await body(again);
    assert.deepEqual(
      (view.statuses as { state: string }[]).map((s) => s.state),
      ['rejected'],
      'the first verdict, not a new command',
    );
    assert.equal(first.headers.get('location'), `/v1/commands/${String(view.id)}`);
    const other = await post({ pointId: `dsx-bms:${FOREIGN}`, value: 22, reason: 'keyed' }, WRITE, {
      'idempotency-key': 'plan-7',
    });
    assert.equal(other.status, 409);
    assert.equal((await body(other)).error, 'idempotency-key-reused');
    assert.equal((await get('/v1/commands/cmd-00000000000000000000000000000000')).status, 404);
    assert.equal((await get('/v1/commands/no')).status, 400);
  });
});
