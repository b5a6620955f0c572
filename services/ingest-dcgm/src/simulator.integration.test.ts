import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { fetchRegistry, publishSiteModel } from '@busway/registry';
import { loadConfig, runWorker, type WorkerRuntime } from '@busway/runtime';
import { normalizerModule } from '@busway/normalizer';
import { buildSiteModel, SimulatorConfigSchema, simulatorModule } from '@busway/simulator';
import { freePort, startMosquitto, startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { ingestDcgmModule } from './index.js';
import { samplesIn } from './test-fixtures.js';

describe("the simulator's dcgm-exporter through the bridge: the plant's GPUs in their racks", () => {
  let nats: TestServer;
  let redis: TestServer;
  let broker: TestServer;
  let conn: Redis;
  const workers: WorkerRuntime[] = [];
  let assetsBefore = 0;

  before(async () => {
    [nats, redis, broker] = await Promise.all([startNats(), startRedis(), startMosquitto()]);
    const dcgmPort = await freePort();
    const env = {
      NATS_URL: nats.url,
      REDIS_URL: redis.url,
      MQTT_URL: broker.url,
      BUSWAY_SITE: 'ai1',
      BUSWAY_LOG_LEVEL: 'silent',
      BUSWAY_ROWS: '1',
      BUSWAY_RACKS_PER_ROW: '2',
      BUSWAY_NODES_PER_RACK: '2',
      BUSWAY_GPUS_PER_NODE: '2',
      BUSWAY_FAULT_MEAN_INTERVAL_MS: '0',
      BUSWAY_DCGM_PORT: String(dcgmPort),
      BUSWAY_TARGETS: JSON.stringify([
        { id: 'sim', url: `http://127.0.0.1:${dcgmPort}/metrics`, pollIntervalMs: 500 },
      ]),
    };
    conn = new Redis(redis.url);
    const model = buildSiteModel(loadConfig(SimulatorConfigSchema, { env, worker: 'simulator' }));
    assetsBefore = model.assets.length;
    await publishSiteModel(conn, model);
    for (const mod of [normalizerModule, simulatorModule, ingestDcgmModule])
      workers.push((await runWorker(mod as typeof normalizerModule, { env, signals: false })).rt);
  });

  after(async () => {
    for (const rt of workers.reverse()) await rt.stop();
    conn?.disconnect();
    await Promise.all([nats?.dispose(), redis?.dispose(), broker?.dispose()]);
  });

  it("attaches DCGM points to the GPUs the site model lists, and their samples come out under the GPU's rack", async () => {
    const rt = workers[0] as WorkerRuntime;
    const sample = await waitFor(
      'a GPU power sample in rack-r1-02',
      async () =>
        (await samplesIn(rt, 'NORM', 'norm.v1.samples.ai1.h1.r1.rack-r1-02')).find(
          (s) => s.metric === 'power.gpu' && s.path?.asset === 'node-r1-02-1-gpu1' && !s.unregistered,
        ),
      20_000,
      100,
    );
    assert.equal(sample.path?.assetClass, 'gpu');
    assert.ok((sample.doubleValue ?? 0) > 0 && (sample.doubleValue ?? 0) < 1000, `${sample.doubleValue} W`);
    const registry = await fetchRegistry(conn, 'ai1');
    assert.equal(
      registry.model.assets.length,
      assetsBefore,
      'no GPU asset added: the site model had them all',
    );
    assert.equal(
      registry.point('dcgm:node-r1-02-1:gpu1/DCGM_FI_DEV_POWER_USAGE')?.asset,
      'node-r1-02-1-gpu1',
    );
  });
});
