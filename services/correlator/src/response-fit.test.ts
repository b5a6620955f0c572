import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Prng } from '@busway/runtime';
import { fitResponse, nearestSpan, response, type LoadStep } from './response-fit.js';

/** A 1 Hz series at `level` that steps up by `rise` (no noise) at the first sample after `onsetMs`. */
function stepSeries(onsetMs: number, rise: number, from = 0, to = 10_000) {
  const t: number[] = [];
  const v: number[] = [];
  for (let x = from; x <= to; x += 1000) {
    t.push(x);
    v.push(25 + (x > onsetMs ? rise : 0) + (x % 3000 === 0 ? 0.01 : -0.01));
  }
  return { t, v };
}

describe('the response fit of a thermal series to its load steps', () => {
  // a 20 kW step at 4.3 s that the series shows at once (no dead time), seen at the 5 s sample
  const steps: LoadStep[] = [{ t: 4300, dp: 20_000 }];
  const { t, v } = stepSeries(4300, 1);
  const opts = { tauMs: 0, minDelayMs: 0, maxDelayMs: 3000 };

  it('reports every delay a step answer between two samples fits, and takes their middle alone', () => {
    const fit = fitResponse(t, v, steps, opts);
    assert.ok(fit);
    assert.equal(fit.delayLowMs, 0);
    assert.equal(fit.delayHighMs, 675, 'up to the 5 s sample, on the 25 ms grid');
    assert.equal(fit.delayMs, 337.5);
  });

  it('lets a prior choose within that range, but not leave it', () => {
    const near = fitResponse(t, v, steps, { ...opts, prior: { delayMs: 50, sdMs: 250 } });
    assert.equal(near?.delayMs, 50);
    assert.equal(near?.delayLowMs, 0, "the data's own range is kept beside the choice");
    assert.equal(near?.delayHighMs, 675);
    // a prior past the next sample would move the rise to a sample that did not show it: the data wins
    const far = fitResponse(t, v, steps, { ...opts, prior: { delayMs: 1500, sdMs: 250 } });
    assert.ok(
      (far?.delayMs ?? Infinity) < 700,
      `delay ${far?.delayMs}, the 5 s sample is 700 ms after the step`,
    );
  });
});

describe('the delay nearest to the ranges of recent matches', () => {
  it('is the median of points', () => {
    assert.deepEqual(
      nearestSpan([
        [3000, 3000],
        [2500, 2500],
        [3400, 3400],
      ]),
      [3000, 3000],
    );
    assert.deepEqual(
      nearestSpan([
        [3000, 3000],
        [2500, 2500],
      ]),
      [2500, 3000],
    );
  });

  it('is what overlapping ranges share', () => {
    assert.deepEqual(
      nearestSpan([
        [0, 675],
        [0, 275],
        [0, 875],
      ]),
      [0, 275],
    );
    assert.deepEqual(
      nearestSpan([
        [100, 600],
        [300, 900],
      ]),
      [300, 600],
    );
  });

  it('is not dragged away by one range that disagrees (a fault disturbed that match)', () => {
    const [lo, hi] = nearestSpan([
      [0, 475],
      [0, 275],
      [0, 675],
      [3100, 4075],
    ]);
    assert.ok(lo >= 0 && hi <= 475, `[${lo}, ${hi}]`);
  });
});

describe("the standard error of a first-order answer's delay", () => {
  it('matches how far the delay really scatters under noise', () => {
    // a 20 kW step answered 3 s later through a 20 s lag, seen at 1 Hz with 0.05 °C of noise: 200 events
    const rng = new Prng(42);
    const z: number[] = [];
    const errors: number[] = [];
    for (let i = 0; i < 200; i++) {
      const step = 10_000 + 1000 * rng.next();
      const t = Array.from({ length: 51 }, (_, k) => k * 1000);
      const v = t.map((x) => 35 + 1.16 * response(x - step - 3000, 20_000) + 0.05 * rng.gaussian());
      const fit = fitResponse(t, v, [{ t: step, dp: 20_000 }], {
        tauMs: 20_000,
        minDelayMs: 500,
        maxDelayMs: 10_000,
      });
      assert.ok(fit && Number.isFinite(fit.delaySdMs));
      errors.push(fit.delayMs - 3000);
      z.push((fit.delayMs - 3000) / fit.delaySdMs);
    }
    const rms = (xs: number[]) => Math.sqrt(xs.reduce((s, x) => s + x * x, 0) / xs.length);
    assert.ok(rms(errors) > 200, `one event alone is uncertain (${rms(errors)} ms)`);
    assert.ok(rms(z) > 0.8 && rms(z) < 1.3, `errors over their standard errors: rms ${rms(z)}`);
  });

  it("stays true where load steps overlap, as jobs on one loop do (the sum's curvature gave 1.33 and a 5 % tail)", () => {
    // the answered step, the job's end 3-13 s later, and another job's step up or down in the 8 s before it
    const rng = new Prng(42);
    const z: number[] = [];
    for (let i = 0; i < 400; i++) {
      const step = 10_000 + 1000 * rng.next();
      const steps = [
        { t: step, dp: 20_000 },
        { t: step + 3000 + 10_000 * rng.next(), dp: -20_000 },
        { t: step - 8000 * rng.next(), dp: rng.next() < 0.5 ? 20_000 : -20_000 },
      ];
      const t = Array.from({ length: 35 }, (_, k) => k * 1000);
      const heat = (x: number) =>
        steps.reduce((s, st) => s + (st.dp / 20_000) * response(x - st.t - 3000, 20_000), 0);
      const v = t.map((x) => 35 + 1.16 * heat(x) + 0.05 * rng.gaussian());
      const fit = fitResponse(t, v, steps, { tauMs: 20_000, minDelayMs: 500, maxDelayMs: 10_000 });
      assert.ok(fit && Number.isFinite(fit.delaySdMs));
      z.push((fit.delayMs - 3000) / fit.delaySdMs);
    }
    const rms = Math.sqrt(z.reduce((s, x) => s + x * x, 0) / z.length);
    const tail = z.filter((x) => Math.abs(x) > 2.5).length / z.length;
    assert.ok(rms > 0.85 && rms < 1.2, `errors over their standard errors: rms ${rms}`);
    assert.ok(tail < 0.035, `beyond 2.5 standard errors: ${tail} (1.2 % for a true one)`);
  });
});
