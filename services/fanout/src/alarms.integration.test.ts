import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Msg } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { busway, EventTypes, Subjects, timeNsFromMs } from '@busway/proto';
import { fabricHeaders, Hdr, runWorker, type WorkerRuntime } from '@busway/runtime';
import { startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { APPLY_ALARM_LUA, clearedAlarmKey, fanoutModule, RedisKeys, type AlarmJson } from './index.js';

const T = 1_800_000_000_000;
const path = { site: 'ai1', hall: 'h1', row: 'r1', rack: 'plant-r1', assetClass: 'cdu', asset: 'cdu-r1' };
const SUBJECT = Subjects.alarm('ai1', 'h1', 'r1', 'plant-r1');
const FORWARDED = 'events.v1.alarm.ai1.h1.r1.plant-r1';

/** An alarm transition as the anomaly worker writes it: one Event of kind ALARM in an EventBatch. */
const alarmBatch = (alarmId: string, active: boolean, tMs: number) =>
  busway.v1.EventBatch.encode({
    events: [
      {
        id: `${alarmId}:${active ? 'raised' : 'cleared'}`,
        kind: busway.v1.EventKind.EVENT_KIND_ALARM,
        eventTimeNs: timeNsFromMs(tMs),
        source: { protocol: 'busway', sourceId: 'anomaly', address: 'p:cdu-r1:ret' },
        alarm: {
          code: active ? 'anomaly.spike' : 'anomaly.cleared',
          severity: 'minor',
          text: active ? 'temperature.coolant.return spike' : 'temperature.coolant.return back to normal',
          path,
          active,
          alarmId,
          anomaly: {
            pointId: 'p:cdu-r1:ret',
            path,
            metric: 'temperature.coolant.return',
            score: active ? 0.9 : 0.1,
            label: active ? 'spike' : 'normal',
          },
          raisedTimeNs: timeNsFromMs(T),
          peakScore: 0.9,
        },
      },
    ],
  }).finish();

describe('fan-out of alarms from stream ALARMS, against real nats-server and Redis', () => {
  let nats: TestServer;
  let redisServer: TestServer;
  let redis: Redis;
  let rt: WorkerRuntime;
  const forwarded: Msg[] = [];
  let n = 0;
  const publish = async (data: Uint8Array, type: string = EventTypes.EventBatch, subject = SUBJECT) => {
    const id = `alarm-msg-${++n}`; // a new stream message each time, as a re-emission would be
    await rt.js.publish(subject, data, {
      headers: fabricHeaders({ type, source: '/busway/anomaly', id }),
      msgID: id,
    });
  };
  const drained = () =>
    waitFor('fanout-alarms drained', async () => {
      const c = await rt.jsm.consumers.info('ALARMS', 'fanout-alarms');
      return c.num_pending === 0 && c.num_ack_pending === 0;
    });
  const active = async (alarmId: string) => {
    const json = await redis.hget(RedisKeys.activeAlarms, alarmId);
    return json ? (JSON.parse(json) as AlarmJson) : undefined;
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
        BUSWAY_CONTROL_NAK_DELAY_MS: '100',
      },
      signals: false,
    }));
    const sub = rt.nc.subscribe('events.v1.alarm.>');
    void (async () => {
      for await (const m of sub) forwarded.push(m);
    })();
    await rt.nc.flush();
  });
  after(async () => {
    redis.disconnect();
    await rt.stop();
    await Promise.all([nats.dispose(), redisServer.dispose()]);
  });

  it('reads ALARMS on the control tier: durable fanout-alarms with the control limits', async () => {
    const c = await rt.jsm.consumers.info('ALARMS', 'fanout-alarms');
    assert.equal(c.config.filter_subject, 'alarm.v1.>');
    assert.equal(c.config.max_ack_pending, 256, 'controlMaxAckPending');
    assert.equal(c.config.max_deliver, 10, 'controlMaxDeliver');
  });

  it('keeps a raised alarm active under its alarm_id, forwards raise and clear unchanged, and forgets it on its clear', async () => {
    const raise = alarmBatch('p:cdu-r1:ret@1', true, T);
    await publish(raise);
    const stored = await waitFor('the active alarm', () => active('p:cdu-r1:ret@1'));
    assert.equal(stored.path, 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-r1.temperature.coolant.return');
    assert.deepEqual([stored.code, stored.severity, stored.score], ['anomaly.spike', 'minor', 0.9]);
    assert.equal(stored.raised, '2027-01-15T08:00:00.000000000Z');
    const up = await waitFor('the forwarded raise', async () =>
      forwarded.find((m) => m.headers?.get(Hdr.Id) === 'p:cdu-r1:ret@1:raised'),
    );
    assert.equal(up.subject, FORWARDED);
    assert.deepEqual(up.data, raise, 'the event, byte for byte');
    assert.equal(up.headers?.get(Hdr.Type), EventTypes.EventBatch);
    assert.equal(up.headers?.get(Hdr.Source), '/busway/anomaly');

    await publish(alarmBatch('p:cdu-r1:ret@1', false, T + 60_000));
    await waitFor('the alarm cleared', async () => (await active('p:cdu-r1:ret@1')) === undefined);
    const down = await waitFor('the forwarded clear', async () =>
      forwarded.find((m) => m.headers?.get(Hdr.Id) === 'p:cdu-r1:ret@1:cleared'),
    );
    assert.equal(down.subject, FORWARDED);
    assert.ok(
      (await redis.pttl(clearedAlarmKey('p:cdu-r1:ret@1'))) > 0,
      'the clear is remembered, for a while',
    );
  });

  it('never makes an alarm active when its clear arrives before its raise, and does not forward that raise', async () => {
    await publish(alarmBatch('p:cdu-r1:ret@2', false, T + 120_000));
    await publish(alarmBatch('p:cdu-r1:ret@2', true, T + 60_000));
    await drained();
    assert.equal(await active('p:cdu-r1:ret@2'), undefined);
    assert.ok(forwarded.some((m) => m.headers?.get(Hdr.Id) === 'p:cdu-r1:ret@2:cleared'));
    assert.ok(!forwarded.some((m) => m.headers?.get(Hdr.Id) === 'p:cdu-r1:ret@2:raised'));
  });

  it('keeps one active alarm for a raise that comes again, and for one retried while Redis was down', async () => {
    const before = await redis.hlen(RedisKeys.activeAlarms);
    const raise = alarmBatch('p:cdu-r1:ret@3', true, T + 180_000);
    await publish(raise);
    await publish(raise);
    await drained();
    assert.equal(await redis.hlen(RedisKeys.activeAlarms), before + 1);
    assert.equal((await active('p:cdu-r1:ret@3'))?.alarmId, 'p:cdu-r1:ret@3');

    const retriesBefore = await rt.metrics.value('busway_messages_total', { outcome: 'retry' });
    await redisServer.stop();
    await publish(alarmBatch('p:cdu-r1:ret@4', true, T + 240_000));
    await waitFor(
      'the raise retried',
      async () => (await rt.metrics.value('busway_messages_total', { outcome: 'retry' })) > retriesBefore,
    );
    await redisServer.restart(); // keeps nothing on disk: it comes back empty
    await waitFor('the retried raise stored', () => active('p:cdu-r1:ret@4').catch(() => undefined), 20_000);
    await drained();
    assert.deepEqual(await redis.hkeys(RedisKeys.activeAlarms), ['p:cdu-r1:ret@4']);
  });

  it('dead-letters an alarm message that does not decode, or holds no alarm, with the reason', async () => {
    const deadLetter = async (count: number) =>
      waitFor('dead letter', async () => {
        const info = await rt.jsm.streams.info('DLQ', { subjects_filter: 'dlq.v1.fanout' });
        if ((info.state.subjects?.['dlq.v1.fanout'] ?? 0) < count) return undefined;
        return rt.jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.v1.fanout' });
      });
    await publish(new Uint8Array([0x0a, 0xff, 0xff, 0xff]));
    const garbage = await deadLetter(1);
    assert.equal(garbage.header.get(Hdr.DlqCode), 'decode-error');
    assert.equal(garbage.header.get(Hdr.DlqSubject), SUBJECT);
    const job = busway.v1.EventBatch.encode({
      events: [{ id: 'job-1', kind: busway.v1.EventKind.EVENT_KIND_JOB, job: { jobId: 'j1' } }],
    }).finish();
    await publish(job);
    const notAlarm = await deadLetter(2);
    assert.equal(notAlarm.header.get(Hdr.DlqCode), 'contract-violation');
    assert.match(notAlarm.header.get(Hdr.DlqReason) ?? '', /event 0 \(job-1\) is not an alarm/);
    await drained();
    assert.equal(await redis.hexists(RedisKeys.activeAlarms, 'job-1'), 0);
  });

  it('ends with exactly the alarms that were raised and never cleared, whatever the order and repetitions', async () => {
    const scratch = new Redis(redisServer.url, { db: 3 }); // its own database: the worker writes db 0
    try {
      await fc.assert(
        fc.asyncProperty(
          fc
            .array(fc.record({ clear: fc.boolean(), raiseTimes: fc.integer({ min: 1, max: 3 }) }), {
              maxLength: 6,
            })
            .chain((alarms) => {
              const steps = alarms.flatMap((a, id) => [
                ...Array.from({ length: a.raiseTimes }, () => ({ id: `a${id}`, active: true })),
                ...(a.clear ? [{ id: `a${id}`, active: false }] : []),
              ]);
              return fc.tuple(fc.constant(alarms), fc.shuffledSubarray(steps, { minLength: steps.length }));
            }),
          async ([alarms, steps]) => {
            await scratch.flushdb();
            for (const s of steps)
              await scratch.eval(
                APPLY_ALARM_LUA,
                2,
                RedisKeys.activeAlarms,
                clearedAlarmKey(s.id),
                s.id,
                s.active ? '1' : '0',
                s.active ? JSON.stringify({ alarmId: s.id }) : 'cleared',
                '60000',
              );
            const expected = alarms.flatMap((a, id) => (a.clear ? [] : [`a${id}`])).sort();
            assert.deepEqual((await scratch.hkeys(RedisKeys.activeAlarms)).sort(), expected);
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      scratch.disconnect();
    }
  });
});
