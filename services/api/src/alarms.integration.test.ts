import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { fanoutModule } from '@busway/fanout';
import { busway, EventTypes, Subjects, timeNsFromMs } from '@busway/proto';
import { fabricHeaders, runWorker, type WorkerRuntime } from '@busway/runtime';
import { freePort, startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { apiModule, hashToken } from './index.js';

const READ = 'read-token-alarms-0123456789abcdef0123';
const T = 1_800_000_000_000;
const CDU = { site: 'ai1', hall: 'h1', row: 'r1', rack: 'plant-r1', assetClass: 'cdu', asset: 'cdu-r1' };
const PDU = { site: 'ai1', hall: 'h1', row: 'r2', rack: 'rack-2', assetClass: 'pdu', asset: 'pdu-2' };
const CDU_RET = 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-r1.temperature.coolant.return';
const PDU_POWER = 'uns.v1.ai1.h1.r2.rack-2.pdu.pdu-2.power.active';

describe('GET /v1/alarms: the active alarms, from the anomaly worker through fan-out, on real NATS and Redis', () => {
  let nats: TestServer;
  let redisServer: TestServer;
  let nc: NatsConnection;
  const workers: WorkerRuntime[] = [];
  let base = '';

  /** An alarm transition as the anomaly worker publishes it on ALARMS. */
  const publishAlarm = async (
    path: typeof CDU,
    metric: string,
    alarmId: string,
    active: boolean,
    raisedMs: number,
  ) => {
    const id = `${alarmId}:${active ? 'raised' : 'cleared'}`;
    const data = busway.v1.EventBatch.encode({
      events: [
        {
          id,
          kind: busway.v1.EventKind.EVENT_KIND_ALARM,
          eventTimeNs: timeNsFromMs(active ? raisedMs : raisedMs + 60_000),
          alarm: {
            code: active ? 'anomaly.level-shift' : 'anomaly.cleared',
            severity: 'major',
            text: `${metric} level-shift`,
            path,
            active,
            alarmId,
            anomaly: { pointId: `p:${path.asset}`, path, metric, score: 0.97, label: 'level-shift' },
            raisedTimeNs: timeNsFromMs(raisedMs),
            peakScore: 0.97,
          },
        },
      ],
    }).finish();
    await jetstream(nc).publish(Subjects.alarm(path.site, path.hall, path.row, path.rack), data, {
      headers: fabricHeaders({ type: EventTypes.EventBatch, source: '/busway/anomaly', id }),
      msgID: id,
    });
  };
  const get = async (query: string, token: string | null = READ) => {
    const res = await fetch(`${base}/v1/alarms${query}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const alarmsOf = (body: Record<string, unknown>) =>
    (body.alarms as { alarmId: string; path: string; raised: string; severity: string }[]) ?? [];

  before(async () => {
    [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
    nc = await connect({ servers: nats.url });
    const common = { NATS_URL: nats.url, REDIS_URL: redisServer.url, BUSWAY_LOG_LEVEL: 'silent' };
    const port = await freePort();
    for (const [mod, env] of [
      [fanoutModule, {}],
      [
        apiModule,
        {
          BUSWAY_API_PORT: String(port),
          BUSWAY_API_HOST: '127.0.0.1',
          BUSWAY_TOKENS: JSON.stringify([{ name: 'dashboard', sha256: hashToken(READ), scopes: ['read'] }]),
        },
      ],
    ] as const) {
      const { rt } = await runWorker(mod as typeof apiModule, { env: { ...common, ...env }, signals: false });
      workers.push(rt);
    }
    base = `http://127.0.0.1:${port}`;
    await publishAlarm(CDU, 'temperature.coolant.return', 'p:cdu-r1@1', true, T);
    await publishAlarm(PDU, 'power.active', 'p:pdu-2@2', true, T + 5_000);
    await publishAlarm(PDU, 'power.active', 'p:pdu-2@0', true, T - 5_000);
    await publishAlarm(PDU, 'power.active', 'p:pdu-2@0', false, T - 5_000);
  });

  after(async () => {
    for (const rt of [...workers].reverse()) await rt.stop();
    await nc?.close();
    await Promise.all([nats?.dispose(), redisServer?.dispose()]);
  });

  it('returns the active alarms, newest raise first, without the one already cleared', async () => {
    const all = await waitFor('both active alarms, the cleared one gone', async () => {
      const r = await get('');
      const ids = alarmsOf(r.body).map((a) => a.alarmId);
      return r.status === 200 && ids.length === 2 && !ids.includes('p:pdu-2@0') ? r.body : undefined;
    });
    assert.deepEqual(
      alarmsOf(all).map((a) => [a.alarmId, a.path, a.raised, a.severity]),
      [
        ['p:pdu-2@2', PDU_POWER, '2027-01-15T08:00:05.000000000Z', 'major'],
        ['p:cdu-r1@1', CDU_RET, '2027-01-15T08:00:00.000000000Z', 'major'],
      ],
    );
    assert.deepEqual([all.count, all.matched], [2, 2]);
  });

  it('filters by a UNS path or pattern, and caps the answer at limit while saying how many matched', async () => {
    const cdus = await get('?path=uns.v1.ai1.*.*.*.cdu.>');
    assert.equal(cdus.status, 200);
    assert.deepEqual(
      alarmsOf(cdus.body).map((a) => a.alarmId),
      ['p:cdu-r1@1'],
    );
    const exact = await get(`?path=${PDU_POWER.slice('uns.v1.'.length)}`);
    assert.deepEqual(
      alarmsOf(exact.body).map((a) => a.alarmId),
      ['p:pdu-2@2'],
    );
    const none = await get('?path=uns.v1.ai9.>');
    assert.deepEqual([none.status, none.body.count], [200, 0]);
    const one = await get('?limit=1');
    assert.deepEqual([one.body.count, one.body.matched], [1, 2]);
    assert.equal(alarmsOf(one.body)[0]?.alarmId, 'p:pdu-2@2');
  });

  it('drops an alarm once its clear has been through fan-out', async () => {
    await publishAlarm(CDU, 'temperature.coolant.return', 'p:cdu-r1@1', false, T);
    const left = await waitFor('the CDU alarm cleared', async () => {
      const r = await get('');
      return alarmsOf(r.body).length === 1 ? r.body : undefined;
    });
    assert.deepEqual(
      alarmsOf(left).map((a) => a.alarmId),
      ['p:pdu-2@2'],
    );
  });

  it('requires a read token and refuses bad parameters with the reason', async () => {
    assert.equal((await get('', null)).status, 401);
    for (const [query, code] of [
      ['?path=uns.v1.ai1..h1', 'bad-path'],
      ['?path=uns.v1.AI1.>', 'bad-path'],
      ['?limit=0', 'bad-parameter'],
      ['?minScore=0.5', 'unknown-parameter'],
    ] as const) {
      const r = await get(query);
      assert.equal(r.status, 400, query);
      assert.equal(r.body.error, code, `${query}: ${String(r.body.reason)}`);
    }
  });
});
