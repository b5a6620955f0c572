import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataType } from 'node-opcua';
import { ensureStream, fabricStreams, runWorker, type WorkerRuntime } from '@busway/runtime';
import { freePort, startNats, waitFor, type TestServer } from '@busway/testkit';
import { ingestOpcuaModule } from './index.js';
import {
  endpointOf,
  outcome,
  sampleCount,
  samplesOf,
  removePkiDirs,
  sleep,
  workerEnv,
} from './test-fixtures.js';
import { NODE, startPlant, type Plant } from './test-server.js';

const LIMIT = 2000;
const POINT = 'opcua:cdu-1:supply-temp';

describe('OPC UA bridge while JetStream refuses: bounded buffer, oldest dropped and counted', () => {
  let nats: TestServer;
  let plant: Plant;
  let rt: WorkerRuntime;

  /** Every value read is stored, dropped and counted, or rejected: none vanishes. */
  const accounted = async () => {
    const [received = 0, out = 0, dropped = 0, rejected = 0] = await Promise.all(
      ['in', 'out', 'dropped', 'rejected'].map((d) => sampleCount(rt, d)),
    );
    return received > 0 && received === out + dropped + rejected;
  };
  const withoutRaw = async () => {
    await rt.jsm.streams.delete('RAW'); // every publish is refused at once: JetStream is "down" for the bridge
  };
  const withRaw = async () => {
    const raw = fabricStreams().find((s) => s.name === 'RAW');
    assert.ok(raw);
    await ensureStream(rt.jsm, raw, rt.log);
  };

  before(async () => {
    nats = await startNats();
    plant = await startPlant(await freePort());
    const items = [{ nodeId: NODE.supplyTemp, name: 'supply-temp', samplingIntervalMs: 10 }];
    ({ rt } = await runWorker(ingestOpcuaModule, {
      env: workerEnv(nats.url, [endpointOf('cdu-1', plant.url, { publishingIntervalMs: 50, items })], {
        BUSWAY_MAX_BUFFER_BYTES: String(LIMIT),
      }),
      signals: false,
    }));
    await waitFor('the first sample', async () => (await samplesOf(rt, POINT)).length > 0);
  });

  after(async () => {
    await rt?.stop();
    await plant?.dispose();
    await nats?.dispose();
    removePkiDirs();
  });

  it('holds at most its byte bound, drops the oldest batches, and delivers the newest once JetStream is back', async () => {
    await withoutRaw();
    let maxHeld = 0;
    for (let i = 1; i <= 80; i++) {
      plant.set('supplyTemp', DataType.Double, 100 + i);
      await sleep(25);
      maxHeld = Math.max(maxHeld, await rt.metrics.value('busway_bridge_buffer_bytes', { stage: 'ingest' }));
    }
    await waitFor('drops', async () => (await outcome(rt, 'dropped-oldest')) > 0);
    assert.ok((await outcome(rt, 'store-retry')) > 0);
    assert.ok(
      maxHeld > 0 && maxHeld <= LIMIT + 400,
      `held ${maxHeld} bytes, bound ${LIMIT} (+ the newest batch)`,
    );

    await withRaw();
    const values = await waitFor('the last value', async () => {
      const v = (await samplesOf(rt, POINT)).map((s) => s.doubleValue ?? 0);
      return v.includes(180) ? v : undefined;
    });
    assert.ok(values.length < 80, `only the newest survived: ${values.length} of 80`);
    assert.deepEqual(
      values,
      [...values].sort((a, b) => a - b),
      'in order',
    );
    await waitFor('every value accounted for', accounted);
    assert.equal(await rt.metrics.value('busway_bridge_buffer_bytes', { stage: 'ingest' }), 0);
  });

  it('on stop, gives what JetStream still refuses one last try, then counts it lost', async () => {
    await withoutRaw();
    plant.set('supplyTemp', DataType.Double, 7);
    const retries = await outcome(rt, 'store-retry');
    await waitFor('a refused batch', async () => (await outcome(rt, 'store-retry')) > retries);
    const started = Date.now();
    await rt.stop();
    assert.ok(Date.now() - started < 5000, 'stop does not wait for JetStream');
    assert.ok((await outcome(rt, 'lost-on-stop')) >= 1);
    assert.ok(await accounted());
  });
});
