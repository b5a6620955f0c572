import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busway, timeNsFromMs } from '@busway/proto';
import { parseSiteModel, Registry } from '@busway/registry';
import { CorrelationEngine } from './correlation.js';

const registry = new Registry(
  parseSiteModel({
    site: 'ai1',
    assets: [
      { id: 'rack-1', class: 'rack', hall: 'h1', row: 'r1', rack: 'rack-1' },
      { id: 'rack-2', class: 'rack', hall: 'h1', row: 'r1', rack: 'rack-2' },
      { id: 'pdu-1', class: 'pdu', hall: 'h1', row: 'r1', rack: 'rack-1' },
      { id: 'pdu-2', class: 'pdu', hall: 'h1', row: 'r1', rack: 'rack-2' },
      { id: 'cdu-1', class: 'cdu', hall: 'h1', row: 'r1', rack: 'plant-r1', cools: ['rack-1', 'rack-2'] },
    ],
  }),
  1,
);
const opts = { powerWindowMs: 10_000, powerStepMinW: 1000, thermalWindowMs: 120_000, thermalRiseMinC: 0.3 };
const T = 1_800_000_000_000;
const pduPath = (n: number) => registry.pathOf(`pdu-${n}`) ?? {};
const power = (n: number, t: number, w: number): busway.v1.ISample => ({
  path: pduPath(n),
  metric: 'power.active',
  doubleValue: w,
  eventTimeNs: timeNsFromMs(t),
});
const ret = (t: number, c: number): busway.v1.ISample => ({
  path: registry.pathOf('cdu-1') ?? {},
  metric: 'temperature.coolant.return',
  doubleValue: c,
  eventTimeNs: timeNsFromMs(t),
});

/** A job at T on rack-1: power steps +20 kW at T+400 ms, coolant rises after a 3 s delay; PDUs every 200 ms. */
function scenario(stepAtMs: number) {
  const items: { t: number; s?: busway.v1.ISample; e?: busway.v1.IEvent }[] = [];
  for (let t = T - 3000; t <= T + 60_000; t += 200) {
    items.push({ t, s: power(1, t, t >= T + stepAtMs ? 28_000 : 8_000) });
    items.push({ t, s: power(2, t, 8_000) });
  }
  for (let t = T - 3000; t <= T + 60_000; t += 1000) {
    const since = t - (T + stepAtMs + 3000);
    items.push({ t, s: ret(t, 32 + (since > 0 ? 4 * (1 - Math.exp(-since / 20_000)) : 0)) });
  }
  items.push({
    t: T,
    e: {
      id: 'j1:started',
      job: {
        jobId: 'j1',
        phase: busway.v1.JobPhase.JOB_PHASE_STARTED,
        racks: [registry.pathOf('rack-1') ?? {}],
      },
    },
  });
  return items.sort((a, b) => a.t - b.t || (a.e ? -1 : 1));
}

function run(engine: CorrelationEngine, items: ReturnType<typeof scenario>) {
  const incidents: busway.v1.IIncident[] = [];
  for (const it of items) {
    if (it.e) engine.onEvent(it.e, it.t);
    if (it.s) incidents.push(...engine.onSample(it.s, it.t));
    incidents.push(...engine.advance(it.t - 2000));
  }
  return incidents;
}

describe('correlating jobs, power and cooling', () => {
  it('ties a job to its rack power step and the coolant answer, with lags within 100 ms of the truth', () => {
    const incidents = run(new CorrelationEngine(opts, () => registry, 'ai1'), scenario(400));
    assert.equal(incidents.length, 1);
    const inc = incidents[0] as busway.v1.IIncident;
    assert.equal(inc.kind, 'job-power-thermal');
    assert.equal(inc.confidence, 1);
    const powerLink = inc.chain?.find((l) => l.role === 'power-response');
    assert.ok(Math.abs((powerLink?.lagMs ?? 0) - 400) <= 100, `power lag ${powerLink?.lagMs}`);
    assert.ok(Math.abs((powerLink?.magnitude ?? 0) - 20_000) < 1, 'the step size');
    const thermal = inc.chain?.find((l) => l.role === 'thermal-response');
    assert.ok((thermal?.lagMs ?? 0) >= 3000, 'the coolant answers after the transport delay');
    assert.equal(thermal?.path?.asset, 'cdu-1');
  });

  it('reports a rack power step that no job explains', () => {
    const items = scenario(400).filter((i) => !i.e);
    const incidents = run(new CorrelationEngine(opts, () => registry, 'ai1'), items);
    assert.equal(incidents.length, 1);
    assert.equal(incidents[0]?.kind, 'unexplained-power-transient');
    assert.equal(incidents[0]?.path?.asset, 'pdu-1');
  });
});
