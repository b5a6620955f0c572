import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SimulatorConfigSchema } from './config.js';
import { buildPlant, buildSiteModel, pointIdOf } from './plant.js';
import { PlantSim, type Reading, type TruthEntry } from './plant-sim.js';

const START = 1_800_000_000_000;
type FaultTruth = Extract<TruthEntry, { fault: unknown }>;

function run(seed: number, ms: number) {
  const config = SimulatorConfigSchema.parse({ site: 'ai1', seed, faultMeanIntervalMs: 40_000 });
  const sim = new PlantSim(config, START);
  const out = sim.advanceTo(START + ms);
  const plant = buildPlant(config);
  const series = (pointId: string) =>
    out.readings.filter((r: Reading) => pointIdOf(plant, r.device, r.name) === pointId);
  const faults = out.truth.filter((t): t is FaultTruth => t.kind === 'fault-start');
  return { out, faults, series, config };
}

const mean = (rs: Reading[]) => rs.reduce((s, r) => s + r.value, 0) / Math.max(1, rs.length);
const within = (rs: Reading[], from: number, to: number) =>
  rs.filter((r) => r.timeMs >= from && r.timeMs < to);

describe('simulated faults', () => {
  const { out, faults, series, config } = run(11, 3 * 3_600_000);

  it('injects every fault type, each with a window and the registered points it affects in the ground truth', () => {
    const types = new Set(faults.map((f) => f.fault));
    for (const t of ['spike', 'stuck', 'drift', 'pump-degradation', 'fan-failure', 'flow-blockage'])
      assert.ok(
        types.has(t as FaultTruth['fault']),
        `${t} injected in three hours (saw ${[...types].join(', ')})`,
      );
    const registered = new Set(buildSiteModel(config).points.map((p) => p.pointId));
    const ends = out.truth.filter((t) => t.kind === 'fault-end');
    for (const f of faults) {
      assert.ok(f.endMs !== undefined && f.endMs > f.timeMs, `${f.fault} has a window`);
      assert.equal(f.pointIds?.[0], f.pointId, 'the primary point comes first');
      for (const p of f.pointIds ?? []) assert.ok(registered.has(p), `${p} is registered`);
      if (f.endMs! <= START + 3 * 3_600_000 - 100)
        assert.ok(
          ends.some((e) => e.kind === 'fault-end' && e.pointId === f.pointId && e.timeMs === f.endMs),
          `${f.fault} on ${f.pointId} ends when its window says`,
        );
    }
  });

  it('makes each physical fault visible on its points, as physics says', () => {
    // the first fault of a type whose device was healthy for the minute before it
    const first = (type: string) =>
      faults.find(
        (f) =>
          f.fault === type &&
          !faults.some(
            (g) => g !== f && g.asset === f.asset && g.endMs! > f.timeMs - 60_000 && g.timeMs < f.timeMs,
          ),
      ) as FaultTruth;
    const before = (id: string, f: FaultTruth) => mean(within(series(id), f.timeMs - 60_000, f.timeMs));
    const late = (id: string, f: FaultTruth) => mean(within(series(id), f.endMs! - 20_000, f.endMs!));

    const pump = first('pump-degradation');
    const [flow, current, dp] = pump.pointIds ?? [];
    assert.ok(late(flow!, pump) < 0.92 * before(flow!, pump), 'a worn pump delivers less flow');
    assert.ok(late(current!, pump) > 1.08 * before(current!, pump), 'and draws more current');
    assert.ok(late(dp!, pump) < before(dp!, pump), 'with less head');

    const blockage = first('flow-blockage');
    const [bFlow, bDp, bReturn] = blockage.pointIds ?? [];
    assert.ok(late(bFlow!, blockage) < 0.75 * before(bFlow!, blockage), 'a blockage chokes the flow');
    assert.ok(late(bDp!, blockage) > 1.2 * before(bDp!, blockage), 'and raises the pressure drop');
    assert.ok(late(bReturn!, blockage) > before(bReturn!, blockage), 'so the return warms (Q = m*cp*dT)');

    const fan = first('fan-failure');
    assert.ok(
      late(fan.pointId, fan) - before(fan.pointId, fan) > 1.8 * 3,
      'a failed fan heats the inlet (°F)',
    );

    const drift = first('drift');
    const shift = late(drift.pointId, drift) - before(drift.pointId, drift);
    const perC = drift.pointId.endsWith('Air/Inlet Temp') ? 1.8 : 1;
    assert.ok(
      Math.abs(shift - perC * drift.magnitude!) < perC * 0.6 * Math.abs(drift.magnitude!),
      `the drift reaches its magnitude (${shift} vs ${perC * drift.magnitude!})`,
    );
  });

  it('carries the heat of each job through its loop with the flow: later while a pump or a blockage slows it', () => {
    type Arrival = Extract<TruthEntry, { kind: 'heat-arrival' }>;
    const arrivals = out.truth.filter((t): t is Arrival => t.kind === 'heat-arrival');
    const starts = out.truth.filter((t) => t.kind === 'job-start');
    assert.ok(arrivals.length > 0.9 * starts.length, `${arrivals.length} arrivals of ${starts.length} jobs`);
    const slowed = (a: Arrival) =>
      faults.some(
        (f) =>
          (f.fault === 'pump-degradation' || f.fault === 'flow-blockage') &&
          f.asset === a.cooler &&
          f.timeMs < a.timeMs &&
          f.endMs! > a.timeMs - a.transportDelayMs,
      );
    const usual = arrivals.filter((a) => !slowed(a));
    const slow = arrivals.filter(slowed);
    assert.ok(usual.length > 100 && slow.length > 10, `${usual.length} at usual flow, ${slow.length} slowed`);
    for (const a of usual) assert.equal(a.transportDelayMs, 3000, `${a.jobId}: the loop's usual delay`);
    assert.ok(
      slow.some((a) => a.transportDelayMs >= 3500),
      'a slowed flow lengthens the delay',
    );
    const plant = buildPlant(config);
    const flowOf = (cdu: string) =>
      series(
        pointIdOf(
          plant,
          plant.devices.find((d) => d.id === cdu)!,
          'Coolant/Flow',
        ),
      );
    // plug flow: what was pumped during the transit is the loop's volume (3 s at 250 L/min), whatever the flow;
    // judged where the flow held steady, as 1 Hz readings cannot integrate a jump (a fault's start or end)
    let steady = 0;
    for (const a of slow) {
      const from = a.timeMs - a.transportDelayMs;
      const readings = within(flowOf(a.cooler), from, a.timeMs);
      const values = readings.map((r) => r.value);
      const jump = faults.some(
        (f) => f.asset === a.cooler && [f.timeMs, f.endMs!].some((t) => t > from - 1000 && t <= a.timeMs),
      );
      if (jump || Math.max(...values) - Math.min(...values) > 0.05 * mean(readings)) continue;
      steady++;
      const litres = (mean(readings) / 60) * (a.transportDelayMs / 1000);
      assert.ok(
        Math.abs(litres - 12.5) < 0.5,
        `${a.jobId}: ${litres.toFixed(2)} L crossed in ${a.transportDelayMs} ms`,
      );
    }
    assert.ok(steady >= 10, `${steady} transits at a steady low flow`);
  });
});
