import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { busway, EventTypes, timeNsFromMs } from '@busway/proto';
import { alarmEventSubject, alarmJson, parseAlarms, type AlarmEvent } from './alarms.js';
import { Refused } from '@busway/runtime';

const T = 1_800_000_000_000;
const path = { site: 'ai1', hall: 'h1', row: 'r1', rack: 'plant-r1', assetClass: 'cdu', asset: 'cdu-r1' };

const alarmArb = fc.record({
  alarmId: fc.string({ minLength: 1, maxLength: 40 }),
  active: fc.boolean(),
  site: fc.string({ maxLength: 12 }),
  rack: fc.string({ maxLength: 12 }),
  score: fc.double({ min: 0, max: 1, noNaN: true }),
  t: fc.integer({ min: T, max: T + 86_400_000 }),
});
type AlarmArb = { alarmId: string; active: boolean; site: string; rack: string; score: number; t: number };
const eventOf = (a: AlarmArb): busway.v1.IEvent => ({
  id: `${a.alarmId}:${a.active ? 'raised' : 'cleared'}`,
  kind: busway.v1.EventKind.EVENT_KIND_ALARM,
  eventTimeNs: timeNsFromMs(a.t),
  alarm: {
    code: 'anomaly.spike',
    severity: 'minor',
    path: { ...path, site: a.site, rack: a.rack },
    active: a.active,
    alarmId: a.alarmId,
    anomaly: { pointId: 'p:ret', path, metric: 'temperature.coolant.return', score: a.score, label: 'spike' },
    raisedTimeNs: timeNsFromMs(a.t - 1000),
    peakScore: a.score,
  },
});
const encode = (events: busway.v1.IEvent[]) => busway.v1.EventBatch.encode({ events }).finish();

describe('reading alarm messages from stream ALARMS', () => {
  it('returns every alarm event of a well-formed EventBatch, in order, with its id and state', () => {
    fc.assert(
      fc.property(fc.array(alarmArb, { minLength: 1, maxLength: 8 }), (alarms) => {
        const parsed = parseAlarms(EventTypes.EventBatch, encode(alarms.map(eventOf)));
        assert.ok(!(parsed instanceof Refused), 'accepted');
        assert.deepEqual(
          parsed.map((e) => [e.alarm.alarmId, e.alarm.active]),
          alarms.map((a) => [a.alarmId, a.active]),
        );
      }),
    );
  });

  it('never throws on arbitrary bytes: a payload is either alarm events or refused with a reason', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const parsed = parseAlarms(EventTypes.EventBatch, bytes);
        if (parsed instanceof Refused) {
          assert.equal(parsed.outcome.kind, 'poison');
          assert.ok(
            parsed.outcome.kind === 'poison' &&
              ['decode-error', 'contract-violation'].includes(parsed.outcome.code) &&
              parsed.outcome.message.length > 0,
          );
        } else {
          for (const e of parsed) {
            assert.equal(e.kind, busway.v1.EventKind.EVENT_KIND_ALARM);
            assert.ok(e.alarm.alarmId.length > 0);
          }
        }
      }),
    );
  });

  it('refuses a whole message when any of its events is not an alarm or has no alarm_id, naming it', () => {
    fc.assert(
      fc.property(
        fc.array(alarmArb, { minLength: 0, maxLength: 5 }),
        fc.nat(),
        fc.constantFrom('job', 'no-id', 'no-body'),
        (alarms, at, defect) => {
          const events = alarms.map(eventOf);
          const bad: busway.v1.IEvent =
            defect === 'job'
              ? { id: 'job-1', kind: busway.v1.EventKind.EVENT_KIND_JOB, job: { jobId: 'j1' } }
              : defect === 'no-id'
                ? { id: 'e', kind: busway.v1.EventKind.EVENT_KIND_ALARM, alarm: { active: true, code: 'x' } }
                : { id: 'e', kind: busway.v1.EventKind.EVENT_KIND_ALARM };
          const i = alarms.length === 0 ? 0 : at % (alarms.length + 1);
          events.splice(i, 0, bad);
          const parsed = parseAlarms(EventTypes.EventBatch, encode(events));
          assert.ok(parsed instanceof Refused);
          assert.equal(parsed.outcome.kind === 'poison' && parsed.outcome.code, 'contract-violation');
          assert.match(
            parsed.outcome.kind === 'poison' ? parsed.outcome.message : '',
            new RegExp(`event ${i} `),
          );
        },
      ),
    );
  });

  it('refuses a message of another ce-type, and an empty batch', () => {
    const other = parseAlarms(EventTypes.AnomalyBatch, encode([]));
    assert.ok(other instanceof Refused && other.outcome.kind === 'poison');
    assert.equal(other.outcome.kind === 'poison' && other.outcome.code, 'contract-violation');
    const empty = parseAlarms(EventTypes.EventBatch, encode([]));
    assert.ok(empty instanceof Refused && empty.outcome.kind === 'poison');
    assert.match(empty.outcome.kind === 'poison' ? empty.outcome.message : '', /no event/);
  });
});

describe('alarm subjects and the Redis form', () => {
  it('forwards on events.v1.alarm with four safe tokens, `_` for a missing part', () => {
    fc.assert(
      fc.property(
        fc.record({ site: fc.string(), hall: fc.string(), row: fc.string(), rack: fc.string() }),
        (p) => {
          const tokens = alarmEventSubject(p).split('.');
          assert.equal(tokens.length, 7);
          assert.deepEqual(tokens.slice(0, 3), ['events', 'v1', 'alarm']);
          for (const t of tokens.slice(3)) assert.match(t, /^[a-z0-9_-]+$/);
        },
      ),
    );
    assert.equal(alarmEventSubject({ site: 'ai1', hall: 'h1' }), 'events.v1.alarm.ai1.h1._._');
  });

  it('keeps a raised alarm under the UNS path of its series, with its raise time and scores', () => {
    const e = eventOf({ alarmId: 'p:ret@1', active: true, site: 'ai1', rack: 'plant-r1', score: 0.9, t: T });
    const j = alarmJson(e as AlarmEvent);
    assert.equal(j.path, 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-r1.temperature.coolant.return');
    assert.equal(j.alarmId, 'p:ret@1');
    assert.equal(j.raised, '2027-01-15T07:59:59.000000000Z');
    assert.equal(j.time, '2027-01-15T08:00:00.000000000Z');
    assert.deepEqual([j.score, j.peakScore, j.label, j.severity], [0.9, 0.9, 'spike', 'minor']);
    assert.equal(j.eventId, 'p:ret@1:raised');
  });
});
