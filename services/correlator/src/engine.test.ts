import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busway, timeNsFromMs } from '@busway/proto';
import { parseSiteModel, Registry } from '@busway/registry';
import { Prng } from '@busway/runtime';
import { CorrelationEngine } from './engine.js';
import { loadRules } from './rules.js';
import { Topology } from './topology.js';

// one row: a busway feeding two racks through taps, a CDU cooling both, an inlet sensor per rack
const registry = new Registry(
  parseSiteModel({
    site: 'ai1',
    assets: [
      { id: 'busway-1', class: 'busway', hall: 'h1', row: 'r1', rack: 'plant-r1', feeds: ['tap-1', 'tap-2'] },
      { id: 'cdu-1', class: 'cdu', hall: 'h1', row: 'r1', rack: 'plant-r1', cools: ['rack-1', 'rack-2'] },
      ...[1, 2].flatMap((n) => [
        { id: `rack-${n}`, class: 'rack', hall: 'h1', row: 'r1', rack: `rack-${n}` },
        { id: `tap-${n}`, class: 'tap', hall: 'h1', row: 'r1', rack: `rack-${n}`, feeds: [`pdu-${n}`] },
        { id: `pdu-${n}`, class: 'pdu', hall: 'h1', row: 'r1', rack: `rack-${n}`, parent: `rack-${n}` },
        { id: `sensor-${n}`, class: 'sensor', hall: 'h1', row: 'r1', rack: `rack-${n}`, parent: `rack-${n}` },
      ]),
    ],
  }),
  1,
);
const topo = new Topology(registry);
const T = 1_800_000_000_000;
const DELAY_MS = 3000;
const TAU_MS = 20_000;
const GAIN_C_PER_KW = 0.0573;

interface Item {
  t: number;
  s?: busway.v1.ISample;
  e?: busway.v1.IEvent;
}

const sample = (asset: string, metric: string, t: number, v: number): Item => ({
  t,
  s: {
    path: registry.pathOf(asset),
    metric,
    doubleValue: v,
    eventTimeNs: timeNsFromMs(t),
    pointId: `${asset}:${metric}`,
  },
});
const job = (id: string, t: number, racks: string[], timeResolutionMs = 0): Item => ({
  t,
  e: {
    id: `${id}:started`,
    eventTimeNs: timeNsFromMs(t),
    timeResolutionMs,
    job: {
      jobId: id,
      phase: busway.v1.JobPhase.JOB_PHASE_STARTED,
      racks: racks.map((r) => registry.pathOf(r) ?? {}),
    },
  },
});

const USUAL_FLOW = 250;

/**
 * A plant: rack power steps at the given times (W), PDUs and busway every 200 ms, the CDU return answering
 * after DELAY_MS with a first-order lag, inlet air following its rack at once, every second; light noise.
 * The loop is plug flow: heat takes DELAY_MS at the usual flow. With `flowAt` the flow varies (reported every
 * second): heat takes longer at a lower flow, and leaves warmer (the same heat in less water).
 */
function plant(
  steps: { t: number; rack: 1 | 2; dpW: number }[],
  untilMs: number,
  extraReturn = (_t: number) => 0,
  flowAt?: (t: number) => number,
) {
  const rng = new Prng(3);
  const items: Item[] = [];
  const rackW = (rack: number, t: number) =>
    8000 + steps.filter((s) => s.rack === rack && s.t <= t).reduce((a, s) => a + s.dpW, 0);
  let ret = 30 + (16_000 / 1000) * GAIN_C_PER_KW;
  // the water pumped so far (flow x ticks) with the heat put in then: heat arrives once the loop's volume passed
  const volume = USUAL_FLOW * (DELAY_MS / 100);
  const loop: { pumped: number; heatW: number }[] = [];
  let pumped = 0;
  for (let t = T - 60_000; t <= untilMs; t += 100) {
    const flow = flowAt?.(t) ?? USUAL_FLOW;
    pumped += flow;
    loop.push({ pumped, heatW: rackW(1, t) + rackW(2, t) });
    while (loop.length > 1 && (loop[1]?.pumped as number) <= pumped - volume) loop.shift();
    const heatKw = (loop[0]?.heatW as number) / 1000;
    const rise = heatKw * GAIN_C_PER_KW * (USUAL_FLOW / flow);
    ret += (30 + rise - ret) * (1 - Math.exp(-100 / TAU_MS));
    if (flowAt && t % 1000 === 0) items.push(sample('cdu-1', 'flow.coolant', t, flow + rng.gaussian()));
    if (t % 200 === 0) {
      for (const n of [1, 2] as const)
        items.push(sample(`pdu-${n}`, 'power.active', t, rackW(n, t) + rng.gaussian() * 20));
      items.push(sample('busway-1', 'power.active', t, rackW(1, t) + rackW(2, t) + rng.gaussian() * 40));
    }
    if (t % 1000 === 0) {
      items.push(
        sample('cdu-1', 'temperature.coolant.return', t, ret + extraReturn(t) + rng.gaussian() * 0.01),
      );
      for (const n of [1, 2] as const)
        items.push(
          sample(
            `sensor-${n}`,
            'temperature.air.inlet',
            t,
            25 + 0.05 * (rackW(n, t) / 1000 - 8) + rng.gaussian() * 0.02,
          ),
        );
    }
  }
  return items;
}

function run(engine: CorrelationEngine, items: Item[], lagMs = 3000): busway.v1.IIncident[] {
  const sorted = [...items].sort((a, b) => a.t - b.t || (a.e ? -1 : 1));
  const out: busway.v1.IIncident[] = [];
  for (const it of sorted) {
    if (it.e) out.push(...engine.onEvent(it.e, it.t));
    if (it.s) out.push(...engine.onSample(it.s, it.t));
    out.push(...engine.advance(it.t - lagMs));
  }
  out.push(...engine.advance(Number.POSITIVE_INFINITY));
  return out;
}

const engine = () => new CorrelationEngine(loadRules(), () => topo, 'ai1');
const link = (inc: busway.v1.IIncident | undefined, role: string, asset: string) =>
  inc?.chain?.find((l) => l.role === role && l.path?.asset === asset);

describe('correlating jobs, power and cooling', () => {
  it('ties a job to its rack power step, the power chain and the CDU and inlet answers, with their lags', () => {
    const items = [...plant([{ t: T + 400, rack: 1, dpW: 20_000 }], T + 80_000), job('j1', T, ['rack-1'])];
    const incidents = run(engine(), items);
    assert.deepEqual(
      incidents.map((i) => i.id),
      ['job-power-thermal:j1'],
    );
    const inc = incidents[0];
    assert.equal(inc?.confidence, 1, inc?.summary ?? '');
    const pdu = link(inc, 'power-response', 'pdu-1');
    assert.ok(Math.abs((pdu?.lagMs ?? 0) - 400) <= 100, `power lag ${pdu?.lagMs} ms, truly 400`);
    // the step lies somewhere in the 200 ms between two PDU readings: uniform, 200/√12
    assert.equal(pdu?.lagSdMs, 57.7, 'the power lag states its standard error');
    assert.ok(Math.abs((pdu?.magnitude ?? 0) - 20_000) < 200, 'the step size, W');
    assert.ok(link(inc, 'power-chain-response', 'busway-1'), 'the busway above it stepped too');
    assert.ok(
      link(inc, 'power-chain-response', 'tap-1') === undefined,
      'a tap without its own meter is not claimed',
    );
    const cdu = link(inc, 'thermal-response', 'cdu-1');
    assert.ok(
      Math.abs((cdu?.lagMs ?? 0) - DELAY_MS) <= 200,
      `coolant lag ${cdu?.lagMs} ms after the step, truly ${DELAY_MS}`,
    );
    const sd = cdu?.lagSdMs ?? 0;
    // at least the power step's own doubt; within three of them of the truth
    assert.ok(sd >= 57.7 && sd < 500, `coolant lag standard error ${sd} ms`);
    assert.ok(
      Math.abs((cdu?.lagMs ?? 0) - DELAY_MS) <= 3 * sd,
      'the coolant lag is within 3 SE of the truth',
    );
    assert.ok(
      Math.abs((cdu?.magnitude ?? 0) - 20 * GAIN_C_PER_KW) < 0.1,
      `steady rise ${cdu?.magnitude} Cel`,
    );
    const air = link(inc, 'air-response', 'sensor-1');
    assert.ok(air && Math.abs(air.lagMs ?? 0) <= 500, `inlet air answers at once (${air?.lagMs} ms)`);
  });

  it('reports a rack power step that no job explains, followed by the coolant answer it causes', () => {
    const incidents = run(engine(), plant([{ t: T + 400, rack: 2, dpW: 15_000 }], T + 80_000));
    assert.equal(incidents.length, 1, JSON.stringify(incidents.map((i) => i.id)));
    const inc = incidents[0];
    assert.equal(inc?.kind, 'unexplained-power-transient');
    assert.equal(inc?.path?.rack, 'rack-2');
    assert.ok(Math.abs((link(inc, 'power-response', 'pdu-2')?.magnitude ?? 0) - 15_000) < 200);
    assert.equal(
      link(inc, 'power-response', 'pdu-2')?.lagSdMs,
      0,
      'the step is its own cause: no lag to doubt',
    );
    assert.ok(link(inc, 'thermal-response', 'cdu-1'), 'the coolant still answers the unexplained load');
  });

  it("learns a loop's answer once when the steps of two racks it cools each open a chain (a lost job)", () => {
    const e = engine();
    const steps = [1, 2].map((rack) => ({ t: T + 400, rack: rack as 1 | 2, dpW: 15_000 }));
    const incidents = run(e, plant(steps, T + 80_000));
    const answered = incidents.filter((i) => link(i, 'thermal-response', 'cdu-1'));
    assert.equal(answered.length, 2, "each rack's unexplained step reports the coolant answer");
    assert.equal(e.snapshot().models['cdu-1|temperature.coolant.return']?.n, 1, 'one answer, one match');
  });

  it("measures a coolant lag that a low flow lengthens: the loop's learned volume over the transit's flow", () => {
    // six steps at the usual flow teach the loop; then a blockage cuts the flow to 60 %: heat takes 5 s, not 3
    const learning = [0, 1, 2, 3, 4, 5].map((k) => ({
      t: T + 400 + k * 60_000,
      rack: 1 as const,
      dpW: 15_000,
    }));
    const blockedAt = T + 400_000;
    const flowAt = (t: number) =>
      t < blockedAt ? USUAL_FLOW : USUAL_FLOW * (1 - 0.4 * (1 - Math.exp(-(t - blockedAt) / 2000)));
    const stepT = blockedAt + 30_000;
    const items = [
      ...plant([...learning, { t: stepT, rack: 2, dpW: 20_000 }], stepT + 80_000, undefined, flowAt),
      job('j-low-flow', stepT - 400, ['rack-2']),
    ];
    const e = engine();
    const inc = run(e, items).find((i) => i.id === 'job-power-thermal:j-low-flow');
    const cdu = link(inc, 'thermal-response', 'cdu-1');
    const truth = DELAY_MS / 0.6;
    const sd = cdu?.lagSdMs ?? 0;
    assert.ok(
      Math.abs((cdu?.lagMs ?? 0) - truth) <= 200,
      `coolant lag ${cdu?.lagMs} ms ± ${sd}, truly ${truth} at 60 % flow`,
    );
    assert.ok(Math.abs((cdu?.lagMs ?? 0) - truth) <= 3 * sd, 'within 3 SE of the truth');
    const model = e.snapshot().models['cdu-1|temperature.coolant.return'];
    assert.ok(
      model && model.n >= 6 && Math.abs((model.flowRef ?? 0) - USUAL_FLOW) < 5,
      'learned at usual flow',
    );
    assert.ok(
      Math.abs(model.delayMs - DELAY_MS) <= 150,
      `the loop's delay at its usual flow: ${model.delayMs} ms`,
    );
    // the low-flow match taught the same loop: its 5 s restated at the usual flow
    const [lastLow] = model.recent.at(-1) ?? [];
    assert.equal(model.n, 7);
    assert.ok(Math.abs((lastLow ?? 0) - DELAY_MS) <= 200, `the last match, restated: ${lastLow} ms`);
  });

  it("measures a job's power lag from the middle of the second a scheduler truncated its time to", () => {
    // slurmrestd says T (whole seconds); the job really started somewhere in [T, T + 1 s); the step is at T + 900
    const items = [
      ...plant([{ t: T + 900, rack: 1, dpW: 20_000 }], T + 80_000),
      job('j3', T, ['rack-1'], 1000),
    ];
    const pdu = link(run(engine(), items)[0], 'power-response', 'pdu-1');
    assert.ok(
      Math.abs((pdu?.lagMs ?? 0) - 400) <= 100,
      `power lag ${pdu?.lagMs} ms: 900 less half the second`,
    );
    // the second's doubt (1000/√12) and the PDU's 200 ms gap together
    assert.equal(pdu?.lagSdMs, 294.4, 'the standard error holds the scheduler clock step');
  });

  it('lets a job stamped shortly after its power step explain it (IT and OT clocks differ)', () => {
    const items = [
      ...plant([{ t: T + 200, rack: 1, dpW: 20_000 }], T + 80_000),
      job('j2', T + 700, ['rack-1']),
    ];
    const incidents = run(engine(), items);
    assert.deepEqual(
      incidents.map((i) => i.id),
      ['job-power-thermal:j2'],
    );
    assert.ok(
      (link(incidents[0], 'power-response', 'pdu-1')?.lagMs ?? 0) < 0,
      'a negative lag: the step came first',
    );
  });

  it('calls a coolant rise with no load behind it unexplained, and leaves a one-sample spike alone', () => {
    const fault = (t: number) => (t >= T + 30_000 ? 2 * (1 - Math.exp(-(t - T - 30_000) / 20_000)) : 0);
    const spike = (t: number) => (t === T + 10_000 ? 5 : 0);
    const incidents = run(
      engine(),
      plant([], T + 90_000, (t) => fault(t) + spike(t)),
    );
    assert.equal(incidents.length, 1, JSON.stringify(incidents.map((i) => i.summary)));
    const inc = incidents[0];
    assert.equal(inc?.kind, 'unexplained-thermal-rise');
    assert.equal(inc?.path?.asset, 'cdu-1');
    const onset = Number((inc?.startNs as { toString(): string }).toString()) / 1e6;
    assert.ok(Math.abs(onset - (T + 30_000)) <= 3000, `onset ${onset - T} ms, truly 30000`);
  });

  it('gives the same incidents, with the same ids, after a checkpoint and a restore mid-stream', () => {
    const items = [
      ...plant(
        [
          { t: T + 400, rack: 1, dpW: 20_000 },
          { t: T + 12_300, rack: 2, dpW: 10_000 },
          { t: T + 30_500, rack: 1, dpW: -20_000 },
        ],
        T + 90_000,
      ),
      job('a', T, ['rack-1']),
    ].sort((a, b) => a.t - b.t || (a.e ? -1 : 1));
    const whole = run(engine(), items);
    const feed = (e: CorrelationEngine, part: Item[]) => {
      const out: busway.v1.IIncident[] = [];
      for (const it of part) {
        if (it.e) out.push(...e.onEvent(it.e, it.t));
        if (it.s) out.push(...e.onSample(it.s, it.t));
        out.push(...e.advance(it.t - 3000));
      }
      return out;
    };
    // a checkpoint in the middle of the job's thermal window, restored into a new engine as JSON
    const cut = items.findIndex((i) => i.t >= T + 15_000);
    const first = engine();
    const before = feed(first, items.slice(0, cut));
    const second = engine();
    second.restore(JSON.parse(JSON.stringify(first.snapshot())) as ReturnType<CorrelationEngine['snapshot']>);
    const after = [...feed(second, items.slice(cut)), ...second.advance(Number.POSITIVE_INFINITY)];
    assert.ok(whole.length >= 2, 'a job chain and an unexplained step');
    assert.deepEqual(
      [...before, ...after].map((i) => i.id),
      whole.map((i) => i.id),
    );
    assert.deepEqual(
      [...before, ...after].map((i) => JSON.stringify(i.chain)),
      whole.map((i) => JSON.stringify(i.chain)),
      'the same chains, lags and magnitudes',
    );
  });
});

describe('correlating grid signals and the facility load', () => {
  const signal = (
    id: string,
    t: number,
    startMs: number,
    status = busway.v1.GridSignalStatus.GRID_SIGNAL_STATUS_ACTIVE,
  ): Item => ({
    t,
    e: {
      id,
      kind: busway.v1.EventKind.EVENT_KIND_GRID,
      eventTimeNs: timeNsFromMs(t),
      grid: {
        program: 'capacity',
        signalType: 'IMPORT_CAPACITY_LIMIT',
        value: 40,
        unit: 'kW',
        startNs: timeNsFromMs(startMs),
        endNs: timeNsFromMs(startMs + 600_000),
        status,
      },
    },
  });

  it('measures how long the facility load took to answer a grid signal, and by how much', () => {
    // the site sheds 14 kW (one rack) 20 s after the signal's start
    const items = [
      ...plant([{ t: T + 20_000, rack: 2, dpW: -14_000 }], T + 60_000),
      signal('evt-1', T - 30_000, T),
    ];
    const incidents = run(engine(), items).filter((i) => i.kind === 'grid-load-response');
    assert.equal(incidents.length, 1);
    const inc = incidents[0];
    assert.equal(inc?.id, 'grid-load-response:evt-1');
    assert.equal(inc?.confidence, 1);
    const load = inc?.chain?.find((l) => l.role === 'load-response');
    assert.ok(Math.abs((load?.lagMs ?? 0) - 20_000) <= 300, `lag ${load?.lagMs} ms, truly 20000`);
    // the facility's meters read every 200 ms: the crossing lies somewhere in one such gap
    assert.equal(load?.lagSdMs, 57.7, 'the load lag states its standard error');
    assert.ok(Math.abs((load?.magnitude ?? 0) + 14_000) < 500, `change ${load?.magnitude} W`);
  });

  it('ignores a cancelled signal and reports one the load never answered with confidence 0', () => {
    const items = [
      ...plant([], T + 400_000),
      signal('evt-cancelled', T - 1000, T, busway.v1.GridSignalStatus.GRID_SIGNAL_STATUS_CANCELLED),
      signal('evt-ignored', T - 1000, T),
    ];
    const grid = run(engine(), items).filter((i) => i.kind === 'grid-load-response');
    assert.deepEqual(
      grid.map((i) => [i.id, i.confidence]),
      [['grid-load-response:evt-ignored', 0]],
    );
  });
});
