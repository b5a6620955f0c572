import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flowFactorAt, meanFlow } from './loop-flow.js';
import { fitResponse, response } from './response-fit.js';
import { Prng } from '@busway/runtime';

const TAU = 20_000;
const seconds = (from: number, to: number) =>
  Array.from({ length: (to - from) / 1000 + 1 }, (_, i) => from + i * 1000);

describe("a cooling loop's flow as a factor on its temperature rise", () => {
  it('is nothing while the flow holds steady (noise aside)', () => {
    const t = seconds(0, 60_000);
    const rng = new Prng(2);
    assert.equal(flowFactorAt(t, { t, v: t.map(() => 250 + 1.5 * rng.gaussian()) }, TAU), undefined);
    assert.equal(flowFactorAt(t, { t: [0], v: [250] }, TAU), undefined, 'one flow sample says nothing');
  });

  it('rises toward usual / flow through the loop lag after the flow drops', () => {
    const t = seconds(0, 120_000);
    // usual flow for the first 90 s, then 70 % of it: the median stays at the usual flow
    const flow = { t, v: t.map((x) => (x < 90_000 ? 250 : 175)) };
    const f = flowFactorAt(t, flow, TAU);
    assert.ok(f);
    assert.equal(f[t.indexOf(89_000)], 1);
    const at = (x: number) => f[t.indexOf(x)] as number;
    const expected = (x: number) => 1 + (250 / 175 - 1) * response(x - 90_000, TAU);
    for (const x of [91_000, 100_000, 120_000])
      assert.ok(Math.abs(at(x) - expected(x)) < 1e-9, `${at(x)} vs ${expected(x)} at ${x}`);
  });

  it("lets the fit find a load step's delay through a blockage that a fit without it misreads", () => {
    // a loop carrying 100 kW at 0.057 °C/kW; at 20 s its flow falls to 75 % within 3 s; at 25 s a 20 kW step,
    // answered 3 s later; every temperature is lagged 20 s
    const gain = 0.057;
    const t = seconds(0, 60_000);
    const fine = Array.from({ length: 6001 }, (_, i) => i * 10);
    const flowAt = (x: number) => 250 * (x < 20_000 ? 1 : 1 - 0.25 * (1 - Math.exp(-(x - 20_000) / 3000)));
    let y = 30 + gain * 100;
    const temps = new Map<number, number>();
    for (const x of fine) {
      const kw = 100 + (x - 3000 >= 25_000 ? 20 : 0);
      y += (30 + (gain * kw * 250) / flowAt(x) - y) * response(10, TAU);
      temps.set(x, y);
    }
    const rng = new Prng(9);
    const v = t.map((x) => (temps.get(x) as number) + 0.005 * rng.gaussian());
    const steps = [{ t: 25_000, dp: 20_000 }];
    const opts = { tauMs: TAU, minDelayMs: 500, maxDelayMs: 10_000 };
    const flowFactor = flowFactorAt(t, { t, v: t.map(flowAt) }, TAU);
    assert.ok(flowFactor);
    const withFlow = fitResponse(t, v, steps, { ...opts, flowFactor });
    const without = fitResponse(t, v, steps, opts);
    assert.ok(withFlow && without);
    assert.ok(Math.abs(withFlow.delayMs - 3000) <= 400, `with the flow: ${withFlow.delayMs} ms`);
    assert.ok(Math.abs(without.delayMs - 3000) > 1000, `without it: ${without.delayMs} ms`);
  });
});

describe("a cooling loop's mean flow over a heat transit", () => {
  const series = (t: number[], v: number[]) => ({ asset: 'cdu-1', metric: 'flow.coolant', t, v });

  it('holds each sample until the next, weighing it by how long it held', () => {
    const flow = series([0, 1000, 2000, 10_000], [250, 250, 150, 150]);
    assert.equal(meanFlow(flow, 500, 1500), 250);
    // 250 for 0.5 s, then 150 for 3.5 s
    assert.equal(meanFlow(flow, 1500, 5500), (250 * 500 + 150 * 3500) / 4000);
    assert.equal(meanFlow(flow, 12_000, 15_000), 150, 'the last sample holds past the series');
    assert.equal(meanFlow(flow, 2000, 2000), 150, 'an instant: the sample holding then');
  });

  it('starts from the first sample when none is as old as the transit, and knows nothing before it', () => {
    const flow = series([5000, 6000], [200, 100]);
    assert.equal(meanFlow(flow, 0, 7000), (200 * 1000 + 100 * 1000) / 2000);
    assert.equal(meanFlow(flow, 0, 4000), undefined);
    assert.equal(meanFlow(series([], []), 0, 1000), undefined);
  });
});
