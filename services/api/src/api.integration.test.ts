import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { fanoutModule } from '@busway/fanout';
import { historyModule } from '@busway/history';
import { busway, EventTypes, timeNsFromMs } from '@busway/proto';
import { publishSiteModel } from '@busway/registry';
import { fabricHeaders, runWorker, type WorkerRuntime } from '@busway/runtime';
import { freePort, startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { apiModule, hashToken } from './index.js';

const READ = 'read-token-0123456789abcdef0123456789';
const WRITE = 'write-token-0123456789abcdef0123456789';
const BURST = 'burst-token-0123456789abcdef0123456789';
const TOKENS = [
  { name: 'dashboard', sha256: hashToken(READ), scopes: ['read'] },
  { name: 'operator', sha256: hashToken(WRITE), scopes: ['read', 'write'] },
  { name: 'burst', sha256: hashToken(BURST), scopes: ['read'] },
];
const MIN = 60_000;
const HOUR = 3_600_000;
/** An hour boundary two hours ago: history lies in the past, as it does in production. */
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
const at = (ms: number) => new Date(ms).toISOString();
const pathOf = (assetClass: string, asset: string) => ({
  site: 'ai1',
  hall: 'h1',
  row: 'r1',
  rack: 'plant-r1',
  assetClass,
  asset,
});
const RET = 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-r1.temperature.coolant.return';

describe('the REST and SSE API, with fan-out and the rollup worker, on real NATS and Redis', () => {
  let nats: TestServer;
  let redisServer: TestServer;
  let redis: Redis;
  let nc: NatsConnection;
  let api: WorkerRuntime;
  const workers: WorkerRuntime[] = [];
  let base = '';
  let n = 0;

  const get = (path: string, token: string | null = READ, init: RequestInit = {}) =>
    fetch(`${base}${path}`, {
      ...init,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers ?? {}) },
    });
  const json = async (path: string, token: string | null = READ) => {
    const res = await get(path, token);
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
  };
  /**
   * One ORDERED message, as the correlator writes it; samples as [class, asset, metric, value, time ms]. A null
   * value is a reading without one (a Sparkplug null), marked bad as the bridge marks it.
   */
  const publishOrdered = async (samples: [string, string, string, number | null, number][]) => {
    const id = `t-${++n}`;
    const data = busway.v1.SampleBatch.encode({
      samples: samples.map(([cls, asset, metric, v, t]) => ({
        pointId: `test:${asset}:${metric}`,
        path: pathOf(cls, asset),
        metric,
        ...(v === null ? { flags: ['null'] } : { doubleValue: v }),
        unit: metric.startsWith('temperature') ? 'Cel' : 'W',
        eventTimeNs: timeNsFromMs(t),
        quality: v === null ? busway.v1.Quality.QUALITY_BAD : busway.v1.Quality.QUALITY_GOOD,
      })),
    }).finish();
    await jetstream(nc).publish('ordered.v1.samples.ai1.h1.r1.plant-r1', data, {
      headers: fabricHeaders({ type: EventTypes.SampleBatch, source: '/test', id }),
      msgID: id,
    });
  };
  const ret = (v: number, t: number): [string, string, string, number, number] => [
    'cdu',
    'cdu-r1',
    'temperature.coolant.return',
    v,
    t,
  ];

  before(async () => {
    [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
    redis = new Redis(redisServer.url);
    nc = await connect({ servers: nats.url });
    await publishSiteModel(redis, {
      site: 'ai1',
      assets: [
        { id: 'cdu-r1', class: 'cdu', hall: 'h1', row: 'r1', rack: 'plant-r1', feeds: [], cools: ['rack-1'] },
        { id: 'rack-1', class: 'rack', hall: 'h1', row: 'r1', rack: 'rack-1', feeds: [], cools: [] },
      ],
      points: [{ pointId: 'test:cdu-r1:ret', asset: 'cdu-r1', metric: 'temperature.coolant.return' }],
    });
    const common = { NATS_URL: nats.url, REDIS_URL: redisServer.url, BUSWAY_LOG_LEVEL: 'silent' };
    const port = await freePort();
    for (const [mod, env] of [
      [fanoutModule, {}],
      [historyModule, { BUSWAY_IDLE_CLOSE_MS: '0', BUSWAY_ALLOWED_LATENESS_MS: '1000' }],
      [
        apiModule,
        {
          BUSWAY_API_PORT: String(port),
          BUSWAY_API_HOST: '127.0.0.1',
          BUSWAY_TOKENS: JSON.stringify(TOKENS),
          BUSWAY_INDEX_REFRESH_MS: '100',
          BUSWAY_RAW_MAX_RANGE_MS: String(5 * MIN),
          BUSWAY_MAX_POINTS: '1000',
          BUSWAY_RATE_LIMIT_PER_S: '100',
          BUSWAY_BODY_LIMIT_BYTES: '1024',
          BUSWAY_SSE_HEARTBEAT_MS: '200',
          BUSWAY_SSE_MAX_QUEUED_EVENTS: '10',
          BUSWAY_SSE_SLOW_CLIENT_MS: '300',
          BUSWAY_SSE_MAX_CLIENTS: '3',
        },
      ],
    ] as const) {
      const { rt } = await runWorker(mod as typeof apiModule, { env: { ...common, ...env }, signals: false });
      workers.push(rt);
    }
    api = workers[2] as WorkerRuntime;
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    for (const rt of [...workers].reverse()) await rt.stop();
    await nc?.close();
    redis?.disconnect();
    await Promise.all([nats?.dispose(), redisServer?.dispose()]);
  });

  it('refuses a request without a token (401), a read token on the write route (403), and counts each reason', async () => {
    const none = await json('/v1/values?path=uns.v1.>', null);
    assert.equal(none.status, 401);
    assert.deepEqual(none.body, {
      status: 401,
      error: 'missing-token',
      reason: 'an Authorization: Bearer <token> header is required',
    });
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal((await json('/v1/values?path=uns.v1.>', 'not-a-known-token')).body.error, 'unknown-token');
    const readOnWrite = await get('/v1/commands', READ, { method: 'POST' });
    assert.equal(readOnWrite.status, 403);
    assert.match(
      ((await readOnWrite.json()) as { reason: string }).reason,
      /'dashboard' lacks the 'write' scope/,
    );
    const writeOnWrite = await get('/v1/commands', WRITE, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.ok(
      ![401, 403].includes(writeOnWrite.status),
      'a write token passes authentication and the scope check',
    );
    const rejected = (code: string) => api.metrics.value('busway_api_rejections_total', { code });
    assert.equal(await rejected('missing-token'), 1);
    assert.equal(await rejected('unknown-token'), 1);
    assert.equal(await rejected('missing-scope'), 1);
  });

  it('serves current values by exact path and by wildcard from the Redis last values', async () => {
    await publishOrdered([
      ret(31.5, T0 + 1_000),
      ['cdu', 'cdu-r1', 'temperature.coolant.supply', 24, T0 + 1_000],
      ['pdu', 'pdu-1', 'power.active', 5200, T0 + 1_000],
    ]);
    const exact = await waitFor('the value in Redis', async () => {
      const r = await json(`/v1/values?path=${RET}`);
      return r.status === 200 ? r.body : undefined;
    });
    const [v] = exact.values as Record<string, unknown>[];
    assert.equal(v?.path, RET);
    assert.equal(v?.value, 31.5);
    assert.equal(v?.unit, 'Cel');
    assert.equal(v?.quality, 'good');
    assert.equal(v?.time, `${at(T0 + 1_000).slice(0, 19)}.000000000Z`);
    const cdus = await waitFor('the index refreshed', async () => {
      const r = await json('/v1/values?path=uns.v1.ai1.*.*.*.cdu.>');
      return r.body.count === 2 ? r.body : undefined;
    });
    assert.deepEqual(
      (cdus.values as { path: string }[]).map((x) => x.path),
      [
        'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-r1.temperature.coolant.return',
        'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-r1.temperature.coolant.supply',
      ],
    );
    const unknown = await json('/v1/values?path=uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-9.flow.coolant');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'unknown-point');
    const tooMany = await json('/v1/values?path=uns.v1.>&limit=2');
    assert.equal(tooMany.status, 400);
    assert.match(String(tooMany.body.reason), /matches more than 2 points/);
  });

  it('serves a reading without a value as null, in the last values and in the raw history', async () => {
    const path = 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-r1.flow.coolant';
    await publishOrdered([['cdu', 'cdu-r1', 'flow.coolant', null, T0 + 1_000]]);
    const current = await waitFor('the null in Redis', async () => {
      const r = await json(`/v1/values?path=${path}`);
      return r.status === 200 ? r.body : undefined;
    });
    const [v] = current.values as Record<string, unknown>[];
    assert.deepEqual([v?.value, v?.type, v?.quality], [null, 'null', 'bad']);
    const raw = await json(`/v1/history?path=${path}&from=${at(T0)}&to=${at(T0 + MIN)}&resolution=raw`);
    assert.deepEqual(raw.body.points, [
      { t: `${at(T0 + 1_000).slice(0, 19)}.000000000Z`, value: null, quality: 'bad' },
    ]);
  });

  it('serves raw history across a minute boundary, then the 1 min rollups once the windows close', async () => {
    const values = [30, 32, 34, 36, 38];
    await publishOrdered(values.map((v, i) => ret(v, T0 + 10_000 + i * 20_000))); // 10 s .. 90 s
    const raw = await waitFor('raw history', async () => {
      const r = await json(`/v1/history?path=${RET}&from=${at(T0)}&to=${at(T0 + 2 * MIN)}&resolution=raw`);
      return (r.body.count as number) >= 6 ? r.body : undefined;
    });
    const points = raw.points as { t: string; value: number; quality: string }[];
    assert.equal(raw.resolution, 'raw');
    assert.equal(raw.unit, 'Cel');
    assert.deepEqual(
      points.map((p) => p.value),
      [31.5, ...values],
    );
    assert.equal(points[1]?.t, `${at(T0 + 10_000).slice(0, 19)}.000000000Z`);
    const middle = await json(
      `/v1/history?path=${RET}&from=${at(T0 + 30_000)}&to=${at(T0 + 70_000)}&resolution=raw`,
    );
    assert.deepEqual(
      (middle.body.points as { value: number }[]).map((p) => p.value),
      [32, 34],
      'from is inclusive, to exclusive',
    );

    await publishOrdered([ret(20, T0 + 3 * MIN + 2_000)]); // the watermark passes minutes 0, 1 and 2
    const rolled = await waitFor('1 min rollups', async () => {
      const r = await json(`/v1/history?path=${RET}&from=${at(T0)}&to=${at(T0 + 2 * MIN)}&resolution=1m`);
      return r.body.count === 2 ? r.body : undefined;
    });
    assert.deepEqual(rolled.points, [
      { t: `${at(T0).slice(0, 19)}.000000000Z`, min: 30, max: 34, avg: (31.5 + 30 + 32 + 34) / 4, count: 4 },
      { t: `${at(T0 + MIN).slice(0, 19)}.000000000Z`, min: 36, max: 38, avg: 37, count: 2 },
    ]);
    const auto = await json(`/v1/history?path=${RET}&from=${at(T0)}&to=${at(T0 + 2 * MIN)}&limit=3`);
    assert.equal(auto.body.resolution, '1m', 'auto falls back to rollups when raw holds more than the limit');
    const rawOver = await json(
      `/v1/history?path=${RET}&from=${at(T0)}&to=${at(T0 + 2 * MIN)}&resolution=raw&limit=3`,
    );
    assert.equal(rawOver.status, 400);
    assert.match(String(rawOver.body.reason), /more than 3 raw values/);
    const jsm = await jetstreamManager(nc);
    await waitFor('no reader consumer left behind', async () => {
      for (const stream of ['UNS', 'ROLLUP_1M'])
        for await (const c of jsm.consumers.list(stream)) if (c) return false;
      return true;
    });
  });

  it('serves the 1 h rollup once the hour has closed', async () => {
    await publishOrdered([ret(50, T0 + HOUR + 2_000)]);
    const hour = await waitFor('1 h rollup', async () => {
      const r = await json(`/v1/history?path=${RET}&from=${at(T0)}&to=${at(T0 + HOUR)}&resolution=1h`);
      return r.body.count === 1 ? r.body : undefined;
    });
    const [h] = hour.points as { min: number; max: number; count: number }[];
    assert.deepEqual([h?.min, h?.max, h?.count], [20, 38, 7]);
  });

  it('returns an empty history for a point without data and refuses bad queries with a 400 and a reason', async () => {
    const empty = await json(`/v1/history?path=uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-9.flow.coolant&from=now-1h`);
    assert.equal(empty.status, 200);
    assert.equal(empty.body.count, 0);
    for (const [query, code] of [
      ['/v1/history?path=uns.v1.ai1.>', 'wildcard-history'],
      [`/v1/history?path=${RET}&from=0`, 'range-too-long'],
      [`/v1/history?path=${RET}&from=now&to=now-1h`, 'bad-range'],
      [`/v1/history?path=${RET}&from=yesterday`, 'bad-time'],
      [`/v1/history?path=${RET}&resolution=1m&from=now-30d`, 'too-many-points'],
      ['/v1/values?path=uns.v1.AI1.>', 'bad-path'],
      ['/v1/values?path=uns.v1..x', 'bad-path'],
      ['/v1/values', 'bad-path'],
      ['/v1/values?path=uns.v1.>&pth=x', 'unknown-parameter'],
      [`/v1/values?path=${RET}&path=${RET}`, 'duplicate-parameter'],
      ['/v1/anomalies?minScore=2', 'bad-parameter'],
    ] as const) {
      const r = await json(query);
      assert.equal(r.status, 400, query);
      assert.equal(r.body.error, code, `${query}: ${String(r.body.reason)}`);
      assert.ok(String(r.body.reason).length > 10);
    }
    const noRoute = await json('/v1/nothing');
    assert.deepEqual([noRoute.status, noRoute.body.error], [404, 'no-route']);
    const big = await get('/v1/commands', WRITE, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(2000) }),
    });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { error: string }).error, 'body-too-large');
  });

  it('answers a client beyond its rate with 429 and Retry-After', async () => {
    let ok = 0;
    let refused: Response | undefined;
    // waves of 100 at once against 100 per second: the bucket empties whatever the machine's speed
    for (let wave = 0; wave < 20 && !refused; wave++) {
      const answers = await Promise.all(Array.from({ length: 100 }, () => get('/v1/incidents', BURST)));
      ok += answers.filter((r) => r.status === 200).length;
      refused = answers.find((r) => r.status === 429);
    }
    assert.ok(refused, 'a request was refused');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(((await refused.json()) as { error: string }).error, 'rate-limited');
    assert.ok(ok >= 100, `the burst went through (${ok})`);
  });

  it(
    'streams live values matching a wildcard as Server-Sent Events, with heartbeats',
    { timeout: 20_000 },
    async () => {
      const abort = new AbortController();
      const res = await get('/v1/stream?path=uns.v1.ai1.*.*.*.cdu.>', READ, { signal: abort.signal });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      const readUntil = async (re: RegExp) => {
        while (!re.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended before ${re}: ${text}`);
          text += Buffer.from(value).toString();
        }
      };
      await readUntil(/: subscribed/);
      await publishOrdered([ret(42.25, T0 + 90 * MIN), ['pdu', 'pdu-1', 'power.active', 1, T0 + 90 * MIN]]); // newer than every earlier value
      await readUntil(/event: sample\ndata: .*42\.25/);
      const data = JSON.parse(/event: sample\ndata: (.*)\n/.exec(text)?.[1] ?? '{}') as Record<
        string,
        unknown
      >;
      assert.deepEqual([data.path, data.value, data.unit, data.quality], [RET, 42.25, 'Cel', 'good']);
      assert.ok(!text.includes('pdu-1'), 'only what the pattern matches');
      await readUntil(/: heartbeat /);
      abort.abort();
      await waitFor(
        'stream closed',
        async () => (await api.metrics.value('busway_api_sse_disconnects_total', { reason: 'client' })) >= 1,
      );
    },
  );

  it('refuses a live stream beyond the client limit with 429', async () => {
    const aborts = [1, 2, 3].map(() => new AbortController());
    const open = await Promise.all(
      aborts.map((a) => get('/v1/stream?path=uns.v1.>', READ, { signal: a.signal })),
    );
    assert.deepEqual(
      open.map((r) => r.status),
      [200, 200, 200],
    );
    const fourth = await json('/v1/stream?path=uns.v1.>');
    assert.deepEqual([fourth.status, fourth.body.error], [429, 'too-many-streams']);
    for (const a of aborts) a.abort();
    await waitFor(
      'streams closed',
      async () => (await api.metrics.value('busway_api_sse_clients', {})) === 0,
    );
  });

  it(
    'drops and counts events for a client that stops reading, then disconnects it',
    { timeout: 30_000 },
    async () => {
      const socket = tcpConnect(Number(new URL(base).port), '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.write(
        `GET /v1/stream?path=uns.v1.flood.> HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${READ}\r\n\r\n`,
      );
      socket.pause(); // never reads: the kernel buffers fill, then the server's queue
      await waitFor('stream open', async () => (await api.metrics.value('busway_api_sse_clients', {})) === 1);
      const sample = busway.v1.SampleBatch.encode({
        samples: [
          { pointId: 'x', doubleValue: 1, unit: 'W', eventTimeNs: timeNsFromMs(T0), metric: 'power.active' },
        ],
      }).finish();
      // far more than the socket buffers of a client that does not read can hold (the kernel's included)
      const subject = `uns.v1.flood.a.b.c.d.${'p'.repeat(60)}.power.${'q'.repeat(60)}`;
      for (let i = 1; i <= 100_000; i++) {
        nc.publish(subject, sample);
        if (i % 5000 === 0) await nc.flush();
      }
      await waitFor(
        'the slow client disconnected',
        async () =>
          (await api.metrics.value('busway_api_sse_disconnects_total', { reason: 'slow-client' })) >= 1,
        10_000,
      );
      assert.ok((await api.metrics.value('busway_api_sse_events_total', { outcome: 'dropped' })) > 0);
      socket.destroy();
    },
  );

  it('serves the asset tree from the registry, incidents and anomaly scores', async () => {
    const tree = await json('/v1/assets?points=true');
    assert.equal(tree.body.site, 'ai1');
    const rack = (
      tree.body.halls as { id: string; rows: { racks: { id: string; assets: unknown[] }[] }[] }[]
    )[0]?.rows[0]?.racks.find((r) => r.id === 'plant-r1');
    assert.deepEqual(rack?.assets, [
      {
        id: 'cdu-r1',
        class: 'cdu',
        cools: ['rack-1'],
        points: [{ metric: 'temperature.coolant.return', path: RET, pointId: 'test:cdu-r1:ret' }],
      },
    ]);
    assert.equal(((await json('/v1/assets?class=rack')).body.halls as unknown[]).length, 1);

    const js = jetstream(nc);
    await js.publish(
      'incident.v1.ai1.job-power-thermal',
      busway.v1.Incident.encode({ id: 'inc-1', kind: 'job-power-thermal', confidence: 0.9 }).finish(),
      { headers: fabricHeaders({ type: EventTypes.Incident, source: '/test', id: 'inc-1' }), msgID: 'inc-1' },
    );
    await js.publish(
      'anomaly.v1.ai1.h1.r1.plant-r1',
      busway.v1.AnomalyBatch.encode({
        scores: [
          {
            pointId: 'a',
            path: pathOf('cdu', 'cdu-r1'),
            metric: 'temperature.coolant.return',
            score: 0.95,
            label: 'spike',
          },
          {
            pointId: 'b',
            path: pathOf('cdu', 'cdu-r1'),
            metric: 'temperature.coolant.supply',
            score: 0.1,
            label: 'normal',
          },
        ],
      }).finish(),
      {
        headers: fabricHeaders({ type: EventTypes.AnomalyBatch, source: '/test', id: 'an-1' }),
        msgID: 'an-1',
      },
    );
    const incidents = await waitFor('incident', async () => {
      const r = await json('/v1/incidents?limit=5');
      return r.body.count === 1 ? r.body : undefined;
    });
    assert.equal((incidents.incidents as { id: string }[])[0]?.id, 'inc-1');
    const anomalies = await waitFor('anomalies', async () => {
      const r = await json('/v1/anomalies?path=uns.v1.ai1.*.*.*.cdu.>&minScore=0.5');
      return r.body.count === 1 ? r.body : undefined;
    });
    assert.deepEqual(
      (anomalies.anomalies as { path: string; score: number; label: string }[]).map((a) => [
        a.path,
        a.score,
        a.label,
      ]),
      [[RET, 0.95, 'spike']],
    );
  });
});
