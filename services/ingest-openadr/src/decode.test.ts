import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bigIntFromTimeNs, busway, nowNs } from '@busway/proto';
import { openAdrSpec } from '@busway/simulator';
import { cancellationOf, decodeEvent, RejectCode, type DecodeContext, type DecodedEvent } from './decode.js';
import { PAYLOAD_RULES, readPayload } from './payloads.js';
import { parseDateTime } from './time.js';

const ctx: DecodeContext = {
  vtnId: 'vtn',
  vtnUrl: 'http://vtn.test',
  ingestTimeNs: nowNs(),
  program: {
    id: 'program-1',
    name: 'busway-demand-response',
    payloadDescriptors: [
      { payloadType: 'PRICE', units: 'KWH', currency: 'USD' },
      { payloadType: 'CONTROL_LEVEL_OFFSET_PERCENT', units: 'PERCENT' },
    ],
  },
};

const curtailment = {
  id: 'event-7',
  createdDateTime: '2026-05-01T10:00:00Z',
  modificationDateTime: '2026-05-01T10:00:01.5Z',
  objectType: 'EVENT',
  programID: 'program-1',
  eventName: 'curtailment',
  priority: 0,
  targets: ['site-ai1'],
  payloadDescriptors: [
    { objectType: 'EVENT_PAYLOAD_DESCRIPTOR', payloadType: 'IMPORT_CAPACITY_LIMIT', units: 'KW' },
  ],
  intervalPeriod: { start: '2026-05-01T12:00:00Z', duration: 'PT15M' },
  intervals: [
    { id: 0, payloads: [{ type: 'IMPORT_CAPACITY_LIMIT', values: [800] }] },
    { id: 1, payloads: [{ type: 'IMPORT_CAPACITY_LIMIT', values: [650.5] }] },
  ],
};

const ns = (iso: string) => parseDateTime(iso) as bigint;
const ok = (raw: unknown, c = ctx): DecodedEvent => {
  const r = decodeEvent(raw, c);
  assert.ok(r.ok, r.ok ? '' : r.reject.message);
  return r.event;
};

describe('decoding an OpenADR event', () => {
  it('makes one grid signal per interval payload with its active period, unit, program and ids', () => {
    const e = ok(curtailment);
    assert.equal(e.signals.length, 2);
    assert.deepEqual(e.rejects, []);
    const [first, second] = e.signals.map((s) => s.grid as busway.v1.IGridSignal);
    assert.equal(first?.signalType, 'IMPORT_CAPACITY_LIMIT');
    assert.equal(first?.value, 800);
    assert.equal(first?.unit, 'kW');
    assert.equal(first?.sourceUnit, 'KW');
    assert.equal(first?.program, 'busway-demand-response');
    assert.equal(first?.programId, 'program-1');
    assert.equal(first?.eventId, 'event-7');
    assert.equal(first?.priority, 0);
    assert.deepEqual(first?.targets, ['site-ai1']);
    assert.equal(first?.status, busway.v1.GridSignalStatus.GRID_SIGNAL_STATUS_ACTIVE);
    // intervals without their own period follow each other from the event's start
    assert.equal(bigIntFromTimeNs(first?.startNs), ns('2026-05-01T12:00:00Z'));
    assert.equal(bigIntFromTimeNs(first?.endNs), ns('2026-05-01T12:15:00Z'));
    assert.equal(bigIntFromTimeNs(second?.startNs), ns('2026-05-01T12:15:00Z'));
    assert.equal(bigIntFromTimeNs(second?.endNs), ns('2026-05-01T12:30:00Z'));
    assert.equal(second?.intervalId, 1);
    // source time is the VTN's modification time, with the clock it came from
    const s = e.signals[0];
    assert.equal(bigIntFromTimeNs(s?.eventTimeNs), ns('2026-05-01T10:00:01.5Z'));
    assert.equal(s?.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_DEVICE);
    assert.equal(s?.kind, busway.v1.EventKind.EVENT_KIND_GRID);
    assert.match(s?.id ?? '', /^openadr:vtn:event-7:\d+-[\w-]+:0:0$/);
    // the whole signal survives the wire
    const back = busway.v1.EventBatch.decode(busway.v1.EventBatch.encode({ events: e.signals }).finish());
    assert.equal(back.events[1]?.grid?.value, 650.5);
  });

  it('reads prices per unit with their currency, percent as per hundred, and alerts as text', () => {
    const e = ok({
      ...curtailment,
      payloadDescriptors: undefined,
      intervals: [
        { id: 0, payloads: [{ type: 'PRICE', values: [0.31] }] },
        { id: 1, payloads: [{ type: 'CONTROL_LEVEL_OFFSET_PERCENT', values: [-0.25] }] },
        { id: 2, payloads: [{ type: 'ALERT_GRID_EMERGENCY', values: ['load shed at 14:00'] }] },
        { id: 3, payloads: [{ type: 'SIMPLE', values: [2] }] },
      ],
    });
    const grid = e.signals.map((s) => s.grid as busway.v1.IGridSignal);
    assert.deepEqual(
      grid.map((g) => [g.signalType, g.value, g.unit, g.currency]),
      [
        ['PRICE', 0.31, '{USD}/(kW.h)', 'USD'],
        ['CONTROL_LEVEL_OFFSET_PERCENT', -25, '%', ''],
        ['ALERT_GRID_EMERGENCY', 0, '', ''],
        ['SIMPLE', 2, '', ''],
      ],
    );
    assert.equal(grid[2]?.text, 'load shed at 14:00');
  });

  it('takes an interval period over the event one, "0001-01-01" as the modification time, P9999Y as open-ended', () => {
    const e = ok({
      ...curtailment,
      intervalPeriod: { start: '0001-01-01', duration: 'P9999Y' },
      intervals: [
        { id: 0, payloads: [{ type: 'IMPORT_CAPACITY_LIMIT', values: [500] }] },
        { id: 5, intervalPeriod: { start: '2026-06-01T00:00:00+02:00', duration: 'PT1H' }, payloads: [] },
      ],
    });
    assert.equal(e.periods[0]?.startNs, ns('2026-05-01T10:00:01.5Z'));
    assert.equal(e.periods[0]?.endNs, undefined);
    assert.equal(bigIntFromTimeNs(e.signals[0]?.grid?.endNs), 0n, 'open-ended: end 0');
    assert.deepEqual(e.periods[1], {
      intervalId: 5,
      startNs: ns('2026-05-31T22:00:00Z'),
      endNs: ns('2026-05-31T23:00:00Z'),
    });
  });

  it('refuses one payload of an unknown type or with bad values and keeps the others', () => {
    const e = ok({
      ...curtailment,
      intervals: [
        {
          id: 0,
          payloads: [
            { type: 'IMPORT_CAPACITY_LIMIT', values: [800] },
            { type: 'SURGE_PRICING_2000', values: [1] },
            { type: 'SIMPLE', values: [7] },
            { type: 'constructor', values: [1] }, // an Object member's name is no payload type either
          ],
        },
        { id: 1, intervalPeriod: { duration: 'PT15X' }, payloads: [{ type: 'PRICE', values: [1] }] },
        { id: 0, payloads: [{ type: 'IMPORT_CAPACITY_LIMIT', values: [1] }] },
      ],
    });
    assert.equal(e.signals.length, 1);
    assert.equal(e.signals[0]?.grid?.value, 800);
    // payload reasons name their payload; an interval refused whole (bad period, repeated id) names none
    assert.deepEqual(
      e.rejects.map((r) => [r.code, r.intervalId, r.payloadIndex]),
      [
        [RejectCode.UnknownPayloadType, 0, 1],
        [RejectCode.BadPayload, 0, 2],
        [RejectCode.UnknownPayloadType, 0, 3],
        [RejectCode.BadDuration, 1, undefined],
        [RejectCode.Contract, 0, undefined],
      ],
    );
    assert.match(e.rejects[1]?.message ?? '', /SIMPLE value 0 must be <= 3/);
    assert.match(e.rejects[4]?.message ?? '', /interval 2: interval id 0 repeats/);
  });

  it('refuses a whole event without an id, a program or a modification time, naming the reason', () => {
    const cases: [unknown, string, RegExp][] = [
      [null, RejectCode.Contract, /JSON object/],
      [{ ...curtailment, id: 'has spaces' }, RejectCode.Contract, /event id/],
      [{ ...curtailment, programID: undefined }, RejectCode.Contract, /programID/],
      [{ ...curtailment, modificationDateTime: 'yesterday' }, RejectCode.BadTime, /modificationDateTime/],
      [
        { ...curtailment, intervalPeriod: { start: '2026-05-01T12:00:00Z', duration: '15 minutes' } },
        RejectCode.BadDuration,
        /duration/,
      ],
      [{ ...curtailment, intervals: { id: 0 } }, RejectCode.Contract, /intervals/],
      [{ ...curtailment, priority: -1 }, RejectCode.Contract, /priority/],
    ];
    for (const [raw, code, message] of cases) {
      const r = decodeEvent(raw, ctx);
      assert.ok(!r.ok, JSON.stringify(raw));
      assert.equal(r.reject.code, code);
      assert.match(r.reject.message, message);
    }
  });

  it('gives the same ids to a re-read, whatever its key order, and new ids to an update', () => {
    const a = ok(curtailment);
    const reordered = Object.fromEntries(Object.entries(curtailment).reverse());
    assert.deepEqual(
      ok(reordered).signals.map((s) => s.id),
      a.signals.map((s) => s.id),
    );
    const updated = ok({ ...curtailment, modificationDateTime: '2026-05-01T10:05:00Z' });
    assert.notEqual(updated.revision, a.revision);
    // a VTN that changes the content without moving its clock still makes a new revision
    const sameClock = ok({
      ...curtailment,
      intervals: [{ id: 0, payloads: [{ type: 'IMPORT_CAPACITY_LIMIT', values: [1] }] }],
    });
    assert.notEqual(sameClock.revision, a.revision);
  });

  it('withdraws an event with the same signals marked CANCELLED under ids of their own', () => {
    const e = ok(curtailment);
    const cancelled = cancellationOf(e.signals, nowNs());
    assert.equal(cancelled.length, 2);
    for (const [i, c] of cancelled.entries()) {
      assert.equal(c.grid?.status, busway.v1.GridSignalStatus.GRID_SIGNAL_STATUS_CANCELLED);
      assert.equal(c.grid?.intervalId, e.signals[i]?.grid?.intervalId);
      assert.equal(c.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_INGEST);
      assert.match(c.id ?? '', new RegExp(`^openadr:vtn:event-7:cancelled:${i}:0$`));
    }
  });
});

/** JSON values as a hostile or careless VTN might send them. */
const anyJson = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    fc.string(),
    fc.constantFrom(
      'PT1H',
      'P9999Y',
      '-PT1H',
      '0001-01-01',
      '2026-05-01T12:00:00Z',
      'IMPORT_CAPACITY_LIMIT',
      'PRICE',
      'SIMPLE',
    ),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.constantFrom('id', 'type', 'values', 'start', 'duration', 'x', 'y', 'payloads'),
      tie('value'),
      { maxKeys: 4 },
    ),
  ),
})).value;

const payloadValue = fc.oneof(
  fc.integer({ min: -20, max: 200 }),
  fc.double({ min: -5, max: 5, noNaN: true }),
  fc.boolean(),
  fc.string({ maxLength: 140 }),
  fc.constantFrom('', 'x'.repeat(128), 'x'.repeat(129)),
  fc.record({
    x: fc.double({ noNaN: true, noDefaultInfinity: true }),
    y: fc.double({ noNaN: true, noDefaultInfinity: true }),
  }),
  fc.array(fc.record({ x: fc.integer(), y: fc.integer() }), { maxLength: 3 }),
);

const event = fc.record(
  {
    id: fc.oneof(fc.constantFrom('event-1', 'e_2'), fc.string()),
    programID: fc.oneof(fc.constant('program-1'), anyJson),
    modificationDateTime: fc.oneof(fc.constant('2026-05-01T10:00:00Z'), fc.string(), anyJson),
    priority: fc.oneof(fc.nat(5), anyJson),
    targets: fc.oneof(fc.array(fc.string()), anyJson),
    intervalPeriod: fc.oneof(
      fc.record({
        start: fc.constantFrom('2026-05-01T12:00:00Z', '0001-01-01', 'bad'),
        duration: fc.constantFrom('PT5M', 'P1M', 'P9999Y', 'PT', '-PT5M'),
      }),
      anyJson,
    ),
    intervals: fc.oneof(
      fc.array(
        fc.record(
          {
            id: fc.oneof(fc.nat(3), anyJson),
            intervalPeriod: fc.oneof(
              fc.record({ duration: fc.constantFrom('PT1M', 'P1Y', 'nope') }),
              anyJson,
            ),
            payloads: fc.oneof(
              fc.array(
                fc.record({
                  type: fc.oneof(fc.constantFrom(...Object.keys(PAYLOAD_RULES)), fc.string()),
                  values: fc.array(payloadValue, { maxLength: 3 }),
                }),
                { maxLength: 3 },
              ),
              anyJson,
            ),
          },
          { requiredKeys: ['payloads'] },
        ),
        { maxLength: 4 },
      ),
      anyJson,
    ),
    reportDescriptors: anyJson,
  },
  { requiredKeys: [] },
);

describe('decoding whatever a VTN sends', () => {
  it('never throws: every object ends as signals, as reasons, or refused whole with a reason', () => {
    fc.assert(
      fc.property(fc.oneof(event, anyJson), (raw) => {
        const r = decodeEvent(raw, ctx);
        if (!r.ok) {
          assert.ok(Object.values(RejectCode).includes(r.reject.code));
          assert.ok(r.reject.message.length > 0);
          return;
        }
        for (const reject of r.event.rejects)
          assert.ok(reject.message.length > 0 && Object.values(RejectCode).includes(reject.code));
        // every payload of an interval that got its period ends as exactly one signal or one reason
        // (a repeated interval id is refused whole, so the first interval of that id is the one counted)
        const intervals = (raw as { intervals: { id: number; payloads: unknown[] }[] }).intervals;
        for (const period of r.event.periods) {
          const interval = intervals.find((i) => i.id === period.intervalId);
          assert.ok(interval, 'a period comes from a listed interval');
          const signals: number = r.event.signals.filter(
            (x) => x.grid?.intervalId === period.intervalId,
          ).length;
          const reasons: number = r.event.rejects.filter(
            (x) => x.intervalId === period.intervalId && x.payloadIndex !== undefined,
          ).length;
          assert.equal(signals + reasons, interval.payloads.length);
        }
        for (const s of r.event.signals) {
          busway.v1.Event.encode(s).finish(); // encodable: no NaN ids, no bad Longs
          const g = s.grid as busway.v1.IGridSignal;
          assert.ok(Number.isFinite(g.value));
          const end = bigIntFromTimeNs(g.endNs);
          assert.ok(
            end === 0n || end >= bigIntFromTimeNs(g.startNs),
            'an interval never ends before it starts',
          );
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts payload values exactly when the 3.1.0 payload schema does, but for its two documented errata', () => {
    const spec = openAdrSpec();
    fc.assert(
      fc.property(
        fc.constantFrom(...spec.payloadTypes),
        fc.array(payloadValue, { maxLength: 3 }),
        (type, values) => {
          const ours = typeof readPayload(type, values) !== 'string';
          const schema = spec.checkPayload(type, values) === undefined;
          // CONTROL_SETPOINT: the schema's oneOf(number, integer) refuses every integer; we accept them
          if (type === 'CONTROL_SETPOINT' && values.some((v) => Number.isInteger(v))) return;
          // CURVE: valuesMap allows no arrays, the CURVE definition asks for arrays of points; we read both
          if (type === 'CURVE') return;
          assert.equal(ours, schema, `${type} ${JSON.stringify(values)}`);
        },
      ),
      { numRuns: 3000 },
    );
    assert.deepEqual(
      Object.keys(PAYLOAD_RULES).sort(),
      [...spec.payloadTypes].sort(),
      'every 3.1.0 payload type has a rule',
    );
  });
});
