import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationTag, EngineeringUnits, ObjectType } from '@bacnet-js/client';
import { ensureStream, fabricStreams, runWorker, type WorkerRuntime } from '@busway/runtime';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import { ingestBacnetModule } from './index.js';
import { EmulatedDevice, HOST } from './test-device.js';
import { batchesOf, outcome, samplesOf } from './test-fixtures.js';

const real = (value: number) => ({ type: ApplicationTag.REAL, value });

describe('BACnet/IP bridge while JetStream does not acknowledge', () => {
  let nats: TestServer;
  let device: EmulatedDevice;
  let rt: WorkerRuntime;

  before(async () => {
    nats = await startNats();
    device = await EmulatedDevice.start(
      5005,
      [
        {
          type: ObjectType.ANALOG_INPUT,
          instance: 1,
          presentValue: real(0),
          units: EngineeringUnits.KILOWATTS,
        },
        {
          type: ObjectType.ANALOG_INPUT,
          instance: 2,
          presentValue: real(0),
          units: EngineeringUnits.KILOWATTS,
        },
      ],
      { apduTimeoutMs: 1000 },
    );
    const devices = [
      {
        id: 'pdu-1',
        address: device.address,
        deviceInstance: 5005,
        pollIntervalMs: 100,
        maxBackoffMs: 400,
        objects: [
          { type: 'analog-input', instance: 1, cov: true },
          { type: 'analog-input', instance: 2, cov: true, covConfirmed: true },
        ],
      },
    ];
    ({ rt } = await runWorker(ingestBacnetModule, {
      env: {
        NATS_URL: nats.url,
        BUSWAY_LOG_LEVEL: 'silent',
        BUSWAY_PORT: '0',
        BUSWAY_BIND_ADDRESS: HOST,
        BUSWAY_COV_QUEUE_LIMIT: '2',
        BUSWAY_DEVICES: JSON.stringify(devices),
      },
      signals: false,
    }));
  });

  after(async () => {
    await rt?.stop();
    device?.close();
    await nats?.dispose();
  });

  it('holds the poll loop and a bounded COV queue, acknowledges nothing unstored, then delivers what it held', async () => {
    await waitFor('pdu-1 polled', async () => (await batchesOf(rt, 'pdu-1')).length >= 3, 15_000, 50);
    await waitFor('both subscriptions', () => device.subscribers.size === 2);
    // without the RAW stream every publish is refused at once: JetStream is "down" for this worker
    await rt.jsm.streams.delete('RAW');
    await waitFor('a refused publish', async () => (await outcome(rt, 'publish-failed')) >= 1, 15_000, 20);
    const refusedAt = Date.now();
    const pollsWhenRefused = device.seen.readPropertyMultiple;
    const receivedBefore = await outcome(rt, 'cov-received');

    for (const kw of [1, 2, 3, 4])
      await device.change(ObjectType.ANALOG_INPUT, 1, { presentValue: real(kw) });
    const confirmed = device.change(ObjectType.ANALOG_INPUT, 2, { presentValue: real(50) });
    await waitFor(
      'five notifications in',
      async () => (await outcome(rt, 'cov-received')) >= receivedBefore + 5,
    );
    assert.deepEqual(await confirmed, ['ERR_TIMEOUT'], 'not acknowledged while JetStream does not have it');
    assert.equal(
      device.seen.readPropertyMultiple,
      pollsWhenRefused,
      'no poll while the previous one is unstored',
    );
    // one in flight, two queued: of 1..4 and the confirmed one, the two oldest waiting were dropped
    assert.equal(await outcome(rt, 'cov-dropped'), 2);

    const raw = fabricStreams().find((s) => s.name === 'RAW');
    assert.ok(raw);
    await ensureStream(rt.jsm, raw, rt.log);
    await waitFor('polling resumed', async () => (await batchesOf(rt, 'pdu-1')).length >= 6, 15_000, 50);
    const samples = await samplesOf(rt, 'pdu-1');
    const [withheld] = samples;
    assert.ok(withheld, 'the withheld poll was delivered, not dropped');
    assert.ok(
      Number(withheld.sequence?.toString()) <= refusedAt,
      'the first batch is the poll before the refusals',
    );
    const covValues = samples
      .filter((s) => s.pointId === 'bacnet:pdu-1:analog-input:1' && s.doubleValue !== 0)
      .map((s) => s.doubleValue);
    assert.deepEqual(covValues.slice(0, 2), [1, 4], 'the one in flight and the newest survived');
    assert.ok(samples.some((s) => s.pointId === 'bacnet:pdu-1:analog-input:2' && s.doubleValue === 50));
    assert.ok((await outcome(rt, 'poll-skipped')) >= 1, 'the ticks missed while waiting are counted');
    assert.ok(device.seen.readPropertyMultiple > pollsWhenRefused);
  });
});
