import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationTag, EngineeringUnits, ObjectType, StatusFlags } from '@bacnet-js/client';
import { busway, msFromTimeNs } from '@busway/proto';
import { runWorker, type WorkerRuntime } from '@busway/runtime';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import { ingestBacnetModule } from './index.js';
import { EmulatedDevice, freeUdpPort, HOST, MALFORMED, sendDatagrams } from './test-device.js';
import { batchesOf, byObject, deadLetters, outcome, samplesOf } from './test-fixtures.js';

const real = (value: number) => ({ type: ApplicationTag.REAL, value });
const GOOD = busway.v1.Quality.QUALITY_GOOD;
const BAD = busway.v1.Quality.QUALITY_BAD;

describe('BACnet/IP bridge against devices emulated with @bacnet-js/client and a real nats-server', () => {
  let nats: TestServer;
  let ahu: EmulatedDevice;
  let chiller: EmulatedDevice;
  let legacy: EmulatedDevice;
  let rt: WorkerRuntime;
  let bridgePort: number;

  before(async () => {
    nats = await startNats();
    ahu = await EmulatedDevice.start(1001, [
      {
        type: ObjectType.ANALOG_INPUT,
        instance: 1,
        presentValue: real(21.5),
        units: EngineeringUnits.DEGREES_CELSIUS,
      },
      {
        type: ObjectType.ANALOG_VALUE,
        instance: 2,
        presentValue: real(12.5),
        units: EngineeringUnits.KILOWATTS,
      },
      {
        type: ObjectType.BINARY_INPUT,
        instance: 3,
        presentValue: { type: ApplicationTag.ENUMERATED, value: 1 },
      },
      {
        type: ObjectType.MULTI_STATE_VALUE,
        instance: 4,
        presentValue: { type: ApplicationTag.UNSIGNED_INTEGER, value: 3 },
      },
      {
        type: ObjectType.ANALOG_VALUE,
        instance: 5,
        presentValue: real(7),
        units: EngineeringUnits.LITERS_PER_MINUTE,
        statusFlags: [StatusFlags.FAULT],
      },
      // a misbehaving device: a date where a number belongs
      {
        type: ObjectType.ANALOG_VALUE,
        instance: 6,
        presentValue: { type: ApplicationTag.DATE, value: new Date(2026, 10, 23) },
        units: EngineeringUnits.KILOWATTS,
      },
    ]);
    chiller = await EmulatedDevice.start(2002, [
      {
        type: ObjectType.ANALOG_INPUT,
        instance: 1,
        presentValue: real(6.5),
        units: EngineeringUnits.DEGREES_CELSIUS,
      },
      {
        type: ObjectType.ANALOG_INPUT,
        instance: 2,
        presentValue: real(40),
        units: EngineeringUnits.PERCENT_RELATIVE_HUMIDITY,
      },
    ]);
    legacy = await EmulatedDevice.start(
      3003,
      [
        {
          type: ObjectType.ANALOG_VALUE,
          instance: 1,
          presentValue: real(101.25),
          units: EngineeringUnits.KILOPASCALS,
        },
      ],
      { readMultiple: false },
    );
    const devices = [
      {
        id: 'ahu-1',
        address: ahu.address,
        deviceInstance: 1001,
        pollIntervalMs: 200,
        objectsPerRequest: 4,
        objects: [
          { type: 'analog-input', instance: 1, name: 'supply air temperature' },
          { type: 'analog-value', instance: 2, name: 'fan power' },
          { type: 'binary-input', instance: 3, name: 'fan running' },
          { type: 'multi-state-value', instance: 4, name: 'mode' },
          { type: 'analog-value', instance: 5, name: 'coil flow' },
          { type: 'analog-value', instance: 6, name: 'broken' },
          { type: 'analog-input', instance: 99, name: 'not on the device' },
        ],
      },
      {
        id: 'chiller-1',
        address: chiller.address,
        deviceInstance: 2002,
        pollIntervalMs: 600_000, // one poll at start: what comes after it can only be COV
        objects: [
          { type: 'analog-input', instance: 1, cov: true, covLifetimeS: 2 },
          { type: 'analog-input', instance: 2, cov: true, covConfirmed: true },
          { type: 'analog-input', instance: 7, cov: true },
        ],
      },
      {
        address: legacy.address,
        deviceInstance: 3003,
        pollIntervalMs: 200,
        objects: [{ type: 'analog-value', instance: 1 }],
      },
      {
        id: 'dead',
        address: `${HOST}:${await freeUdpPort()}`,
        deviceInstance: 4004,
        pollIntervalMs: 200,
        timeoutMs: 150,
        maxBackoffMs: 1000,
        objects: [{ type: 'analog-input', instance: 1 }],
      },
    ];
    ({ rt } = await runWorker(ingestBacnetModule, {
      env: {
        NATS_URL: nats.url,
        BUSWAY_LOG_LEVEL: 'silent',
        BUSWAY_PORT: String((bridgePort = await freeUdpPort())),
        BUSWAY_BIND_ADDRESS: HOST,
        BUSWAY_DEVICES: JSON.stringify(devices),
      },
      signals: false,
    }));
  });

  after(async () => {
    await rt?.stop();
    for (const d of [ahu, chiller, legacy]) d?.close();
    await nats?.dispose();
  });

  it('polls with ReadPropertyMultiple: typed values, unit names, status flags as quality, one batch per poll', async () => {
    const batches = await waitFor('three polls of ahu-1', async () => {
      const b = await batchesOf(rt, 'ahu-1');
      return b.length >= 3 ? b : undefined;
    });
    const last = batches.at(-1);
    assert.ok(last);
    const s = byObject(last.samples);
    assert.equal(s.size, 7, 'one sample per configured object');
    const temp = s.get('analog-input:1');
    assert.equal(temp?.pointId, 'bacnet:ahu-1:analog-input:1');
    assert.equal(temp?.doubleValue, 21.5);
    assert.equal(temp?.unit, 'degrees-celsius');
    assert.equal(temp?.quality, GOOD);
    assert.deepEqual(temp?.flags, []);
    assert.equal(temp?.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_INGEST);
    assert.deepEqual(
      { ...temp?.source },
      {
        protocol: 'bacnet',
        address: `${ahu.address}/analog-input:1`,
        sourceId: 'ahu-1',
      },
    );
    const polledMs = msFromTimeNs(temp?.eventTimeNs);
    assert.equal(Number(temp?.sequence?.toString()), polledMs);
    assert.equal(last.id, `bacnet:ahu-1@${polledMs}`);
    assert.equal(s.get('analog-value:2')?.doubleValue, 12.5);
    assert.equal(s.get('analog-value:2')?.unit, 'kilowatts');
    assert.equal(s.get('binary-input:3')?.boolValue, true);
    assert.equal(s.get('binary-input:3')?.unit, '');
    assert.equal(s.get('multi-state-value:4')?.intValue?.toNumber(), 3);
    const flow = s.get('analog-value:5');
    assert.equal(
      flow?.doubleValue,
      7,
      'the value is kept, its quality says the device does not vouch for it',
    );
    assert.equal(flow?.unit, 'liters-per-minute');
    assert.equal(flow?.quality, BAD);
    assert.deepEqual(flow?.flags, ['fault']);

    assert.ok(ahu.seen.readPropertyMultiple >= 2 * 3, 'two requests (4 objects each) per poll');
    assert.equal(ahu.seen.readProperty, 0);
    assert.equal(ahu.seen.units.get(`${ObjectType.ANALOG_INPUT}:1`), 1, 'UNITS read once, then cached');
  });

  it('dead-letters an unknown object and a value that is no number once, and marks them QUALITY_BAD every poll', async () => {
    await waitFor('five polls of ahu-1', async () => (await batchesOf(rt, 'ahu-1')).length >= 5);
    for (const b of await batchesOf(rt, 'ahu-1')) {
      const s = byObject(b.samples);
      assert.equal(s.get('analog-input:99')?.quality, BAD);
      assert.deepEqual(s.get('analog-input:99')?.flags, ['property-error']);
      assert.equal(s.get('analog-value:6')?.quality, BAD);
      assert.deepEqual(s.get('analog-value:6')?.flags, ['unsupported-value']);
      assert.equal(s.get('analog-value:6')?.doubleValue ?? null, null);
    }
    const letters = (await deadLetters(rt)).filter((d) => d.origin.startsWith(`bacnet:${ahu.address}/`));
    assert.equal(letters.length, 2, `one dead letter per fault, not per poll: ${JSON.stringify(letters)}`);
    const [unknown, date] = [...letters].sort((a, b) => a.origin.localeCompare(b.origin));
    assert.equal(unknown?.origin, `bacnet:${ahu.address}/analog-input:99`);
    assert.equal(unknown?.code, 'contract-violation');
    assert.match(
      unknown?.reason ?? '',
      /ahu-1 \(instance 1001\) analog-input:99 'not on the device': present-value: the device answered object: unknown-object/,
    );
    assert.equal(unknown?.body.what, 'present-value');
    assert.match(date?.reason ?? '', /analog-value:6 'broken': present-value: a date is not a number/);
    assert.equal((date?.body.answer as { type: number }[])[0]?.type, ApplicationTag.DATE);
    assert.ok(
      (await rt.metrics.value('busway_dead_letters_total', {
        stage: 'ingest',
        reason: 'contract-violation',
      })) >= 2,
    );
  });

  it('publishes a COV change at once, between polls, with the unit the first poll read', async () => {
    await waitFor('both subscriptions', () => chiller.subscribers.size === 2);
    const polls = chiller.seen.readPropertyMultiple;
    const changedAt = Date.now();
    await chiller.change(ObjectType.ANALOG_INPUT, 1, { presentValue: real(7.25) });
    const sample = await waitFor('the change on RAW', async () =>
      (await samplesOf(rt, 'chiller-1')).find(
        (x) => x.pointId === 'bacnet:chiller-1:analog-input:1' && x.doubleValue === 7.25,
      ),
    );
    assert.equal(chiller.seen.readPropertyMultiple, polls, 'no poll explains it');
    assert.equal(sample.unit, 'degrees-celsius');
    assert.equal(sample.quality, GOOD);
    assert.ok(msFromTimeNs(sample.eventTimeNs) >= changedAt, 'stamped when it arrived');
    assert.ok((await outcome(rt, 'cov-received')) >= 3, 'the two first values and the change');
  });

  it('acknowledges a confirmed COV notification once JetStream has it', async () => {
    const outcomes = await chiller.change(ObjectType.ANALOG_INPUT, 2, { presentValue: real(55) });
    assert.deepEqual(outcomes, ['acknowledged']);
    const stored = (await samplesOf(rt, 'chiller-1')).filter(
      (x) => x.pointId === 'bacnet:chiller-1:analog-input:2' && x.doubleValue === 55,
    );
    assert.equal(stored.length, 1, 'stored before the acknowledgement went out');
    assert.equal(stored[0]?.unit, 'percent-relative-humidity');
  });

  it('renews a subscription before its lifetime ends, and dead-letters one the device refuses', async () => {
    await waitFor(
      'three SubscribeCOV of a 2 s subscription',
      () => (chiller.seen.subscribe.get(`${ObjectType.ANALOG_INPUT}:1`) ?? 0) >= 3,
      10_000,
    );
    assert.equal(chiller.seen.lapsed, 0, 'every renewal came before the lifetime ran out');
    assert.equal(chiller.seen.subscribe.get(`${ObjectType.ANALOG_INPUT}:2`), 1, '300 s: not renewed yet');
    const refused = await waitFor('the refused subscription dead-lettered', async () =>
      (await deadLetters(rt)).find(
        (d) => d.origin === `bacnet:${chiller.address}/analog-input:7` && d.body.what === 'subscribe-cov',
      ),
    );
    assert.match(
      refused.reason,
      /chiller-1 \(instance 2002\) analog-input:7: SubscribeCOV refused: object: unknown-object/,
    );
    assert.equal(
      chiller.seen.subscribe.get(`${ObjectType.ANALOG_INPUT}:7`),
      1,
      'asked again only after a lifetime',
    );
  });

  it('reads a device without ReadPropertyMultiple with ReadProperty', async () => {
    const samples = await waitFor('three polls of the legacy device', async () => {
      const b = await batchesOf(rt, '3003');
      return b.length >= 3 ? b.flatMap((x) => x.samples) : undefined;
    });
    for (const s of samples) {
      assert.equal(s.pointId, 'bacnet:3003:analog-value:1', 'the id defaults to the device instance');
      assert.equal(s.doubleValue, 101.25);
      assert.equal(s.unit, 'kilopascals');
      assert.equal(s.quality, GOOD);
    }
    assert.equal(legacy.seen.readPropertyMultiple, 0, 'rejected by the library before the handler');
    assert.ok(
      legacy.seen.readProperty >= 3 * 2,
      `PRESENT_VALUE and STATUS_FLAGS each poll: ${legacy.seen.readProperty}`,
    );
  });

  it('backs off from a device that does not answer, while the others keep their pace', async () => {
    await waitFor(
      'ahu-1 polled 20 times',
      async () => (await batchesOf(rt, 'ahu-1')).length >= 20,
      30_000,
      200,
    );
    const good = (await batchesOf(rt, 'ahu-1')).length;
    const dead = await batchesOf(rt, 'dead');
    assert.ok(
      dead.length >= 1 && dead.length < good / 2,
      `unanswered device: ${dead.length} cycles vs ${good}`,
    );
    for (const s of dead.flatMap((b) => b.samples)) {
      assert.equal(s.quality, BAD);
      assert.deepEqual(s.flags, ['read-failed']);
    }
    assert.ok((await outcome(rt, 'read-failed')) >= 1);
  });

  it('drops and counts datagrams it cannot decode, and keeps polling', async () => {
    await sendDatagrams(bridgePort, MALFORMED);
    await waitFor(
      'malformed datagrams counted',
      async () => (await outcome(rt, 'malformed-datagram')) === MALFORMED.length,
    );
    const polls = (await batchesOf(rt, 'ahu-1')).length;
    await waitFor('ahu-1 polled again', async () => (await batchesOf(rt, 'ahu-1')).length >= polls + 2);
  });

  it('cancels its COV subscriptions on stop', async () => {
    await rt.stop();
    assert.equal(chiller.subscribers.size, 0);
    assert.equal(chiller.seen.cancel.get(`${ObjectType.ANALOG_INPUT}:1`), 1);
    assert.equal(chiller.seen.cancel.get(`${ObjectType.ANALOG_INPUT}:2`), 1);
  });
});
