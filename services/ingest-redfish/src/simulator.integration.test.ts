import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger, loadConfig, type WorkerRuntime } from '@busway/runtime';
import {
  buildSiteModel,
  PlantSim,
  RackBmcs,
  redfishEndpointsOf,
  SimulatorConfigSchema,
  TICK_MS,
  type SimulatorConfig,
} from '@busway/simulator';
import { freePort, startNats, waitFor, type TestServer } from '@busway/testkit';
import { samplesOf, startBridge } from './test-fixtures.js';

describe('Redfish bridge reading the simulated rack BMCs', () => {
  let nats: TestServer;
  let bmcs: RackBmcs;
  let rt: WorkerRuntime;
  let config: SimulatorConfig;
  let sim: PlantSim;
  let timer: NodeJS.Timeout;

  before(async () => {
    nats = await startNats();
    config = loadConfig(SimulatorConfigSchema, {
      env: {
        BUSWAY_SITE: 'ai1',
        BUSWAY_ROWS: '1',
        BUSWAY_RACKS_PER_ROW: '2',
        BUSWAY_REDFISH_PORT: String(await freePort()),
      },
    });
    sim = new PlantSim(config, Math.floor(Date.now() / TICK_MS) * TICK_MS);
    bmcs = await RackBmcs.start(sim.plant, config, createLogger('test', 'silent'));
    timer = setInterval(
      () => bmcs.observe(sim.advanceTo(Date.now()).readings, config.thermalIntervalMs),
      TICK_MS,
    );
    ({ rt } = await startBridge(nats.url, redfishEndpointsOf(config, sim.plant)));
  });

  after(async () => {
    clearInterval(timer);
    await rt?.stop();
    await bmcs?.close();
    await nats?.dispose();
  });

  it('stores node power and GPU temperatures under point ids the simulator registers in its site model', async () => {
    const registered = new Map(buildSiteModel(config).points.map((p) => [p.pointId, p]));
    const racks = sim.plant.rows.flatMap((r) => r.racks);
    await waitFor(
      'a report from every rack',
      async () => (await Promise.all(racks.map((r) => samplesOf(rt, r.id)))).every((s) => s.length > 0),
      15_000,
    );
    const [rack] = racks;
    assert.ok(rack);
    const samples = await samplesOf(rt, rack.id);
    const perNode = 1 + config.gpusPerNode;
    assert.equal(samples.length % (rack.nodes.length * perNode), 0, 'every node, every GPU, each report');
    for (const s of samples) {
      const point = registered.get(s.pointId ?? '');
      assert.ok(point, `${s.pointId} is in the site model`);
      assert.equal(s.unit, point.unit);
    }
    const power = samples.find((s) => s.pointId?.endsWith('/PowerConsumedWatts'));
    assert.ok((power?.doubleValue ?? 0) > 1000, 'a node draws over a kilowatt');
  });
});
