import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { busway, timeNsFromMs } from '@busway/proto';
import { parseSiteModel, Registry } from '@busway/registry';
import { Prng } from '@busway/runtime';
import { EngineOptionsSchema } from './config.js';
import { Label } from './detector.js';
import { AnomalyEngine, type Scored } from './engine.js';

const SEC = 1000;
const T0 = 1_800_000_000_000;

/** One CDU cooling two racks, each with a PDU fed from a busway through a tap, and an inlet sensor. */
function registry(): Registry {
  const a = (id: string, cls: string, rack: string, feeds: string[] = [], cools: string[] = []) => ({
    id,
    class: cls,
    hall: 'h1',
    row: 'r1',
    rack,
    feeds,
    cools,
  });
  const model = parseSiteModel({
    site: 'ai1',
    assets: [
      a('rack-1', 'rack', 'rack-1'),
      a('rack-2', 'rack', 'rack-2'),
      a('cdu-1', 'cdu', 'plant-r1', [], ['rack-1', 'rack-2']),
      a('busway-1', 'busway', 'plant-r1', ['tap-1', 'tap-2']),
      a('tap-1', 'tap', 'rack-1', ['pdu-1']),
      a('tap-2', 'tap', 'rack-2', ['pdu-2']),
      a('pdu-1', 'pdu', 'rack-1'),
      a('pdu-2', 'pdu', 'rack-2'),
      a('sensor-1', 'sensor', 'rack-1'),
    ],
    points: [],
  });
  return new Registry(model, 1);
}

const RACK_OF: Record<string, string> = {
  'pdu-1': 'rack-1',
  'pdu-2': 'rack-2',
  'sensor-1': 'rack-1',
  'cdu-1': 'plant-r1',
  'busway-1': 'plant-r1',
};
function sample(asset: string, cls: string, metric: string, tMs: number, v: number): busway.v1.ISample {
  return {
    pointId: `test:${asset}:${metric}`,
    path: { site: 'ai1', hall: 'h1', row: 'r1', rack: RACK_OF[asset], assetClass: cls, asset },
    metric,
    doubleValue: v,
    eventTimeNs: timeNsFromMs(tMs),
  };
}
function job(id: string, phase: busway.v1.JobPhase, racks: string[], tMs: number): busway.v1.IEvent {
  return {
    id: `${id}:${phase}`,
    kind: busway.v1.EventKind.EVENT_KIND_JOB,
    eventTimeNs: timeNsFromMs(tMs),
    job: { jobId: id, phase, racks: racks.map((rack) => ({ site: 'ai1', hall: 'h1', row: 'r1', rack })) },
  };
}

/** A plant in steady state: every second the PDUs, the CDU (heat balance exact) and the sensor report. */
function plant(engine: AnomalyEngine, rng: Prng) {
  const out: Scored[] = [];
  const step = (
    tMs: number,
    kw: [number, number],
    opts: { returnOffsetK?: number; flowLpm?: number; inletC?: number } = {},
  ) => {
    const flow = opts.flowLpm ?? 250;
    const heatW = (kw[0] + kw[1]) * 1000;
    const dT = heatW / ((flow / 60) * 4186);
    const push = (s: busway.v1.ISample) => {
      const r = engine.scoreSample(s);
      if (r) out.push(r);
    };
    push(sample('pdu-1', 'pdu', 'power.active', tMs, kw[0] * 1000 * (1 + 0.003 * rng.gaussian())));
    push(sample('pdu-2', 'pdu', 'power.active', tMs, kw[1] * 1000 * (1 + 0.003 * rng.gaussian())));
    push(sample('cdu-1', 'cdu', 'temperature.coolant.supply', tMs, 30 + 0.05 * rng.gaussian()));
    push(sample('cdu-1', 'cdu', 'flow.coolant', tMs, flow + 1.5 * rng.gaussian()));
    push(
      sample(
        'cdu-1',
        'cdu',
        'temperature.coolant.return',
        tMs,
        30 + dT + (opts.returnOffsetK ?? 0) + 0.05 * rng.gaussian(),
      ),
    );
    push(
      sample('sensor-1', 'sensor', 'temperature.air.inlet', tMs, (opts.inletC ?? 25) + 0.1 * rng.gaussian()),
    );
  };
  return { out, step };
}

const opts = EngineOptionsSchema.parse({ coolantTimeConstantMs: 0, coolantTransportDelayMs: 0 });
const of = (out: Scored[], asset: string, metric: string) =>
  out.filter((r) => r.score.path?.asset === asset && r.score.metric === metric);

describe('the anomaly engine', () => {
  it('scores a power step on a rack where a job just started as expected, and the same step elsewhere as an anomaly', () => {
    const engine = new AnomalyEngine(opts, registry);
    const { out, step } = plant(engine, new Prng(1));
    for (let t = 0; t < 300; t++) step(T0 + t * SEC, [20, 20]);
    engine.onEvent(job('j1', busway.v1.JobPhase.JOB_PHASE_STARTED, ['rack-1'], T0 + 300 * SEC));
    for (let t = 300; t < 400; t++) step(T0 + t * SEC, [40, t >= 350 ? 35 : 20]);
    const pdu1 = of(out, 'pdu-1', 'power.active').slice(300);
    assert.ok(
      pdu1.some((r) => r.score.label === Label.Expected),
      'the job explains the rise',
    );
    assert.ok(
      pdu1.every((r) => !r.alarm),
      'no alarm on the job rack',
    );
    assert.match(
      pdu1.find((r) => r.score.label === Label.Expected)?.score.reason ?? '',
      /job j1 started on rack-1/,
    );
    const pdu2 = of(out, 'pdu-2', 'power.active').slice(350);
    assert.equal(pdu2.filter((r) => r.alarm?.active).length, 1, 'one alarm on the rack no job explains');
  });

  it('lets a job-power-thermal incident explain the coolant return rise on its CDU', () => {
    const engine = new AnomalyEngine({ ...opts, explainWindowMs: 60_000 }, registry);
    const { out, step } = plant(engine, new Prng(2));
    for (let t = 0; t < 300; t++) step(T0 + t * SEC, [20, 20]);
    engine.onIncident({
      id: 'job-power-thermal:j2',
      kind: 'job-power-thermal',
      startNs: timeNsFromMs(T0 + 300 * SEC),
      endNs: timeNsFromMs(T0 + 330 * SEC),
      summary: 'job j2 on rack-2',
      chain: [
        { role: 'power-response', path: { asset: 'pdu-2' }, metric: 'power.active' },
        { role: 'thermal-response', path: { asset: 'cdu-1' }, metric: 'temperature.coolant.return' },
      ],
    });
    for (let t = 300; t < 400; t++) step(T0 + t * SEC, [20, 40]);
    const ret = of(out, 'cdu-1', 'temperature.coolant.return').slice(300);
    assert.ok(
      ret.some(
        (r) => r.score.label === Label.Expected && /incident job-power-thermal:j2/.test(r.score.reason ?? ''),
      ),
    );
    assert.ok(
      ret.every((r) => !r.alarm || r.score.label === Label.Physics),
      'the return itself raises nothing',
    );
  });

  it('flags a coolant return that does not answer the heat the racks put in (Q = m*cp*dT)', () => {
    const engine = new AnomalyEngine(opts, registry);
    const { out, step } = plant(engine, new Prng(3));
    for (let t = 0; t < 600; t++) step(T0 + t * SEC, [20, 20]);
    assert.equal(
      out.filter((r) => r.score.label === Label.Physics).length,
      0,
      'a consistent balance is quiet',
    );
    engine.onEvent(job('j3', busway.v1.JobPhase.JOB_PHASE_STARTED, ['rack-1'], T0 + 600 * SEC));
    // +20 kW, but the return reads as if nothing happened (a sensor stuck near its value, a bypass)
    const dT20 = 20_000 / ((250 / 60) * 4186);
    for (let t = 600; t < 700; t++) step(T0 + t * SEC, [40, 20], { returnOffsetK: -dT20 });
    const phys = of(out, 'cdu-1', 'temperature.coolant.return').filter(
      (r) => r.score.label === Label.Physics,
    );
    assert.ok(phys.length > 0, 'the heat balance does not fit');
    assert.match(phys[0]?.score.reason ?? '', /does not fit 60(\.\d+)? kW at 2\d\d(\.\d+)? L\/min/);
    assert.ok(
      (phys[0]?.score.expected ?? 0) > (phys[0]?.score.observed ?? 0) + 0.5,
      'more heat was expected back',
    );
    assert.equal(of(out, 'cdu-1', 'temperature.coolant.return').filter((r) => r.alarm?.active).length, 1);
  });

  it('raises one alarm for one fault and clears it once the score has stayed low for the hold time', () => {
    const engine = new AnomalyEngine(opts, registry);
    const { out, step } = plant(engine, new Prng(4));
    for (let t = 0; t < 900; t++) step(T0 + t * SEC, [20, 20], { inletC: t >= 300 && t < 420 ? 29 : 25 });
    const alarms = of(out, 'sensor-1', 'temperature.air.inlet').filter((r) => r.alarm);
    assert.deepEqual(
      alarms.map((r) => r.alarm?.active),
      [true, false],
      'one raise, one clear',
    );
    const [raise, clear] = alarms;
    assert.equal(raise?.alarm?.alarmId, clear?.alarm?.alarmId);
    assert.ok(
      (raise?.alarm?.raisedMs ?? 0) >= T0 + 300 * SEC && (raise?.alarm?.raisedMs ?? 0) < T0 + 310 * SEC,
    );
    assert.ok((clear?.alarm?.peakScore ?? 0) >= 0.5);
  });

  it('does not score bad or stale samples, nor non-numeric ones', () => {
    const engine = new AnomalyEngine(opts, registry);
    const stale = {
      ...sample('pdu-1', 'pdu', 'power.active', T0, 1),
      quality: busway.v1.Quality.QUALITY_STALE,
    };
    assert.equal(engine.scoreSample(stale)?.score.label, Label.Missing);
    assert.equal(
      engine.scoreSample({ ...sample('pdu-1', 'pdu', 'x', T0, 0), doubleValue: null, boolValue: true }),
      undefined,
    );
    assert.equal(engine.detector.size, 0);
  });
});
