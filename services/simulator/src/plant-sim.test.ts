import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSiteModel } from '@busway/registry';
import { SimulatorConfigSchema } from './config.js';
import { buildPlant, buildSiteModel, pointIdOf } from './plant.js';
import { PlantSim, type TruthEntry } from './plant-sim.js';

const START = 1_800_000_000_000;
const config = (over: Record<string, unknown> = {}) =>
  SimulatorConfigSchema.parse({ site: 'ai1', jobMeanIntervalMs: 4000, ...over });

function run(seed: number, ms: number) {
  const sim = new PlantSim(config({ seed }), START);
  return sim.advanceTo(START + ms);
}

describe('plant simulator', () => {
  it('replays the same history for the same seed and start, and another for another seed', () => {
    const a = run(7, 60_000);
    const b = run(7, 60_000);
    const c = run(8, 60_000);
    assert.deepEqual(a.truth, b.truth);
    assert.deepEqual(
      a.readings.map((r) => r.value),
      b.readings.map((r) => r.value),
    );
    assert.notDeepEqual(
      a.readings.map((r) => r.value),
      c.readings.map((r) => r.value),
    );
    assert.ok(
      a.truth.some((t) => t.kind === 'job-start'),
      'jobs start within a minute',
    );
  });

  it('steps the rack power after the dispatch delay and raises the coolant return later, with lag', () => {
    const out = run(3, 120_000);
    const start = out.truth.find(
      (t): t is Extract<TruthEntry, { kind: 'job-start' }> => t.kind === 'job-start',
    );
    assert.ok(start);
    const rack = start.racks[0] as string;
    const pdu = rack.replace('rack-', 'pdu-');
    const power = out.readings.filter((r) => r.device.id === pdu && r.name === 'Power/Active');
    const before = power.filter((r) => r.timeMs <= start.timeMs).at(-1)?.value ?? 0;
    const firstHigh = power.find((r) => r.timeMs > start.timeMs && r.value > before + 2);
    assert.ok(firstHigh, 'power steps up');
    const powerLagMs = firstHigh.timeMs - start.timeMs;
    assert.ok(
      powerLagMs >= start.dispatchDelayMs && powerLagMs <= start.dispatchDelayMs + 200,
      `power lag ${powerLagMs} ms vs dispatch ${start.dispatchDelayMs} ms`,
    );
    assert.ok(
      Math.abs((firstHigh.value - before) * 1000 - (start.powerStepW[rack] ?? 0)) < 1500,
      'step matches the truth',
    );

    const cdu = start.coolers[0] as string;
    const ret = out.readings.filter((r) => r.device.id === cdu && r.name === 'Coolant/Return Temp');
    const base = ret.filter((r) => r.timeMs <= start.timeMs).at(-1)?.value ?? 0;
    const risen = ret.find((r) => r.timeMs > start.timeMs && r.value > base + 0.3);
    assert.ok(risen, 'coolant return rises');
    assert.ok(
      risen.timeMs - firstHigh.timeMs >= start.transportDelayMs,
      'thermal answer lags the power step by at least the transport delay',
    );
  });

  it('registers every point it publishes in a valid site model', () => {
    const cfg = config();
    const model = parseSiteModel(buildSiteModel(cfg));
    const plant = buildPlant(cfg);
    const registered = new Set(model.points.map((p) => p.pointId));
    const published = new Set(run(1, 5000).readings.map((r) => pointIdOf(plant, r.device, r.name)));
    assert.ok(published.size > 50);
    for (const id of published) assert.ok(registered.has(id), `${id} is registered`);
    const cdu = model.assets.find((a) => a.id === 'cdu-r1');
    assert.deepEqual(cdu?.cools, ['rack-r1-01', 'rack-r1-02', 'rack-r1-03', 'rack-r1-04']);
  });
});
