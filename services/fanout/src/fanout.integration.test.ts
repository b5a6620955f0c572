import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { busway, EventTypes, timeNsFromMs, unsSubject } from '@busway/proto';
import {
  createLogger,
  ensureStream,
  fabricHeaders,
  fabricStreams,
  Hdr,
  runWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import { startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { anomalyKey, fanoutModule, lastValueKey, RedisKeys } from './index.js';

const path = { site: 'ai1', hall: 'h1', row: 'r1', rack: 'plant-r1', assetClass: 'cdu', asset: 'cdu-r1' };
const UNS = 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-r1.temperature.coolant.return';
const T = 1_800_000_000_000;
const batchOf = (v: number, t: number) =>
  busway.v1.SampleBatch.encode({
    samples: [
      {
        pointId: 'p:cdu-r1:ret',
        path,
        metric: 'temperature.coolant.return',
        doubleValue: v,
        unit: 'Cel',
        eventTimeNs: timeNsFromMs(t),
      },
    ],
  }).finish();

describe('fan-out against real nats-server and Redis', () => {
  let nats: TestServer;
  let redisServer: TestServer;
  let redis: Redis;
  let rt: WorkerRuntime;
  let n = 0;
  const publish = (data: Uint8Array, type: string = EventTypes.SampleBatch) => {
    const id = `t-${++n}`;
    return rt.js.publish('ordered.v1.samples.ai1.h1.r1.plant-r1', data, {
      headers: fabricHeaders({ type, source: '/test', id }),
      msgID: id,
    });
  };

  before(async () => {
    [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
    redis = new Redis(redisServer.url);
    redis.on('error', () => undefined);
    ({ rt } = await runWorker(fanoutModule, {
      env: {
        NATS_URL: nats.url,
        REDIS_URL: redisServer.url,
        BUSWAY_LOG_LEVEL: 'silent',
        BUSWAY_NAK_DELAY_MS: '200',
      },
      signals: false,
    }));
  });
  after(async () => {
    redis.disconnect();
    await rt.stop();
    await Promise.all([nats.dispose(), redisServer.dispose()]);
  });

  it('delivers each sample on its UNS subject with CloudEvents headers and a traceparent', async () => {
    const sub = rt.nc.subscribe('uns.v1.ai1.*.*.*.cdu.>', { max: 1 });
    await rt.nc.flush();
    await publish(batchOf(41.5, T));
    for await (const m of sub) {
      assert.equal(m.subject, UNS);
      assert.equal(busway.v1.SampleBatch.decode(m.data).samples[0]?.doubleValue, 41.5);
      assert.equal(m.headers?.get(Hdr.Type), EventTypes.SampleBatch);
      assert.match(m.headers?.get(Hdr.TraceParent) ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    }
  });

  it('keeps the newest value in Redis: an older sample arriving later does not roll it back', async () => {
    await publish(batchOf(42, T + 2000));
    await waitFor('newest value', async () => (await redis.hget(lastValueKey(UNS), 'value')) === '42');
    await publish(batchOf(40, T + 1000));
    await waitFor('older sample consumed and acknowledged', async () => {
      const info = await rt.jsm.consumers.info('ORDERED', 'fanout-samples');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
    const lv = await redis.hgetall(lastValueKey(UNS));
    assert.equal(lv.value, '42');
    assert.equal(lv.unit, 'Cel');
    assert.equal(lv.time, '2027-01-15T08:00:02.000000000Z');
  });

  it('stores each sample once in stream UNS under its point subject, even when the batch comes again', async () => {
    const countOf = async () =>
      (await rt.jsm.streams.info('UNS', { subjects_filter: UNS })).state.subjects?.[UNS] ?? 0;
    const before = await countOf();
    const t = T + 10_000;
    await publish(batchOf(44, t));
    await publish(batchOf(44, t)); // the correlator re-emitting after a restart: a new message, the same sample
    // delivered is not done: fan-out acks a batch only once UNS has stored its messages
    await waitFor('both batches consumed and acknowledged', async () => {
      const info = await rt.jsm.consumers.info('ORDERED', 'fanout-samples');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
    assert.equal(await countOf(), before + 1, 'the repeated sample was stored once');
    const stored = await rt.jsm.streams.getMessage('UNS', { last_by_subj: UNS });
    assert.equal(busway.v1.SampleBatch.decode(stored?.data ?? new Uint8Array()).samples[0]?.doubleValue, 44);
    assert.equal(stored?.header.get(Hdr.Time), '2027-01-15T08:00:10.000000000Z', 'ce-time is the event time');
  });

  it('writes the samples of one point in one batch as one UNS message, in event-time order', async () => {
    const data = busway.v1.SampleBatch.encode({
      samples: [T + 21_000, T + 20_000, T + 22_000].map((t, i) => ({
        pointId: 'p:cdu-r1:sup',
        path,
        metric: 'temperature.coolant.supply',
        doubleValue: 20 + i,
        unit: 'Cel',
        eventTimeNs: timeNsFromMs(t),
      })),
    }).finish();
    await publish(data);
    const supply = 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-r1.temperature.coolant.supply';
    const stored = await waitFor('the UNS message', () =>
      rt.jsm.streams.getMessage('UNS', { last_by_subj: supply }).catch(() => undefined),
    );
    assert.deepEqual(
      busway.v1.SampleBatch.decode(stored.data).samples.map((s) => s.doubleValue),
      [21, 20, 22],
    );
    assert.equal(await redis.hget(lastValueKey(supply), 'value'), '22', 'the newest is the last value');
  });

  it('keeps each incident in the Redis list, newest first, and republishes it on events.v1.incident', async () => {
    const sub = rt.nc.subscribe('events.v1.incident.>', { max: 1 });
    await rt.nc.flush();
    const incident = busway.v1.Incident.encode({
      id: 'inc-1',
      kind: 'job-power-thermal', // an Incident has a `kind` of its own
      path: { site: 'ai1' },
      confidence: 0.9,
    }).finish();
    await rt.js.publish('incident.v1.ai1.job-power-thermal', incident, {
      headers: fabricHeaders({ type: EventTypes.Incident, source: '/test', id: 'inc-1' }),
      msgID: 'inc-1',
    });
    const [stored] = await waitFor('incident in Redis', async () => {
      const list = await redis.lrange(RedisKeys.incidents, 0, 0);
      return list.length > 0 ? list : undefined; // an empty list is truthy: wait for the incident itself
    });
    assert.equal((JSON.parse(stored ?? '{}') as { id: string }).id, 'inc-1');
    for await (const m of sub) assert.equal(m.subject, 'events.v1.incident.ai1.job-power-thermal');
  });

  it('indexes anomaly scores so they can be found by pattern', async () => {
    const score = busway.v1.AnomalyBatch.encode({
      scores: [
        { pointId: 'p:cdu-r1:ret', path, metric: 'temperature.coolant.return', score: 0.3, label: 'normal' },
      ],
    }).finish();
    const id = `a-${++n}`;
    await rt.js.publish('anomaly.v1.ai1.h1.r1.plant-r1', score, {
      headers: fabricHeaders({ type: EventTypes.AnomalyBatch, source: '/test', id }),
      msgID: id,
    });
    await waitFor(
      'indexed score',
      async () => (await redis.sismember(RedisKeys.anomalyIndex, anomalyKey(UNS))) === 1,
    );
    assert.equal(await redis.hget(anomalyKey(UNS), 'score'), '0.3');
  });

  it("keeps a point's newest score when a batch carries several, whatever their order", async () => {
    const at = (ms: number, score: number) => ({
      pointId: 'p:cdu-r1:sup',
      path,
      metric: 'temperature.coolant.supply',
      score,
      label: score > 0.5 ? 'spike' : 'normal',
      eventTimeNs: timeNsFromMs(1_800_000_000_000 + ms),
    });
    const id = `a-${++n}`;
    await rt.js.publish(
      'anomaly.v1.ai1.h1.r1.plant-r1',
      busway.v1.AnomalyBatch.encode({ scores: [at(0, 0.1), at(2000, 0.9), at(1000, 0.2)] }).finish(),
      { headers: fabricHeaders({ type: EventTypes.AnomalyBatch, source: '/test', id }), msgID: id },
    );
    const key = anomalyKey(unsSubject(path, 'temperature.coolant.supply'));
    const stored = await waitFor('the score hash', async () => {
      const h = await redis.hgetall(key);
      return h.score ? h : undefined;
    });
    assert.deepEqual([stored.score, stored.label], ['0.9', 'spike']);
  });

  it('dead-letters a payload that does not decode', async () => {
    await publish(new Uint8Array([0x0a, 0xff, 0xff, 0xff]));
    const dead = await waitFor('dead letter', () =>
      rt.jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.v1.fanout' }).catch(() => undefined),
    );
    assert.equal(dead.header.get(Hdr.DlqCode), 'decode-error');
  });

  it('keeps a batch while Redis is down and delivers it once Redis is back', async () => {
    await redisServer.stop();
    await publish(batchOf(43, T + 3000));
    // not acked: retried until Redis answers again
    await waitFor(
      'the batch retried',
      async () => (await rt.metrics.value('busway_messages_total', { outcome: 'retry' })) >= 1,
    );
    await redisServer.restart();
    await waitFor(
      'value after Redis restart',
      async () => (await redis.hget(lastValueKey(UNS), 'value').catch(() => null)) === '43',
      20_000,
    );
  });

  it('holds a batch in place while stream UNS cannot answer, then stores it before what came after', async () => {
    const unsSpec = fabricStreams().find((st) => st.name === 'UNS');
    assert.ok(unsSpec);
    const retries = () => rt.metrics.value('busway_messages_total', { outcome: 'retry' });
    const retriesBefore = await retries();
    await rt.jsm.streams.delete('UNS'); // what a publish meets while a leader is elected: no responders
    await publish(batchOf(44, T + 4000));
    await publish(batchOf(45, T + 5000));
    await waitFor(
      'the batch held',
      async () => (await rt.metrics.value('busway_messages_total', { outcome: 'store-retry' })) >= 1,
    );
    await ensureStream(rt.jsm, unsSpec, createLogger('test', 'silent'));
    await waitFor(
      'both values stored',
      async () => (await redis.hget(lastValueKey(UNS), 'value').catch(() => null)) === '45',
      20_000,
    );
    // the stream was made again: it holds only what the held batches stored
    const uns = await rt.jsm.streams.info('UNS');
    const stored: number[] = [];
    for (let seq = uns.state.first_seq; seq <= uns.state.last_seq; seq++) {
      const m = await rt.jsm.streams.getMessage('UNS', { seq });
      stored.push(busway.v1.SampleBatch.decode(m?.data ?? new Uint8Array()).samples[0]?.doubleValue ?? NaN);
    }
    assert.deepEqual(stored, [44, 45], 'in their order, each once');
    assert.equal(await retries(), retriesBefore, "nothing nak'ed to come back later");
    const info = await rt.jsm.consumers.info('ORDERED', 'fanout-samples');
    assert.equal(info.num_redelivered, 0);
  });
});
