import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fabricStreams, runWorker, ensureStream, type WorkerRuntime } from '@busway/runtime';
import { freePort, startNats, waitFor, type TestServer } from '@busway/testkit';
import { ingestModbusModule } from './index.js';
import { batchesOf, closePlant, countOf, HOST, PLC_POINTS, startPlant, type Plant } from './test-fixtures.js';

describe('Modbus TCP poller while JetStream does not acknowledge', () => {
  let nats: TestServer;
  let plant: Plant;
  let rt: WorkerRuntime;
  const outcome = (name: string) =>
    rt.metrics.value('busway_messages_total', { stage: 'ingest', outcome: name });

  before(async () => {
    nats = await startNats();
    const port = await freePort();
    plant = await startPlant(port);
    const devices = [
      { id: 'plc-1', host: HOST, port, pollIntervalMs: 100, maxBackoffMs: 400, points: PLC_POINTS },
    ];
    ({ rt } = await runWorker(ingestModbusModule, {
      env: { NATS_URL: nats.url, BUSWAY_LOG_LEVEL: 'silent', BUSWAY_DEVICES: JSON.stringify(devices) },
      signals: false,
    }));
  });

  after(async () => {
    await rt?.stop();
    await closePlant(plant);
    await nats?.dispose();
  });

  it('stops polling until the withheld cycle is stored, then delivers it and counts the skipped polls', async () => {
    await waitFor('plc-1 polled', async () => (await countOf(rt.jsm, 'plc-1')) >= 3, 15_000, 50);
    // without the RAW stream every publish is refused at once: JetStream is "down" for this worker
    await rt.jsm.streams.delete('RAW');
    await waitFor('a refused publish', async () => (await outcome('publish-failed')) >= 1, 15_000, 20);
    const refusedAt = Date.now();
    const readsWhenRefused = plant.seen.holding;
    await waitFor('three more refusals', async () => (await outcome('publish-failed')) >= 4, 15_000, 20);
    assert.equal(plant.seen.holding, readsWhenRefused, 'no poll while the previous cycle is unacknowledged');

    const raw = fabricStreams().find((s) => s.name === 'RAW');
    assert.ok(raw);
    await ensureStream(rt.jsm, raw, rt.log);
    await waitFor('polling resumed', async () => (await countOf(rt.jsm, 'plc-1')) >= 3, 15_000, 50);
    const [withheld] = await batchesOf(rt.jsm, 'plc-1');
    assert.ok(withheld, 'the withheld cycle was delivered, not dropped');
    const polledAt = Number(withheld.samples[0]?.sequence?.toString());
    assert.ok(
      polledAt <= refusedAt,
      'the first batch in the new stream is the cycle polled before the refusals',
    );
    assert.ok((await outcome('poll-skipped')) >= 1, 'the ticks missed while waiting are counted');
    assert.ok(plant.seen.holding > readsWhenRefused);
  });
});
