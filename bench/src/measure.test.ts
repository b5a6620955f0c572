import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  latencySummary,
  percentile,
  procStatusMb,
  ratioOf,
  lagGrowth,
  windowRate,
  type CountAt,
} from './measure.js';

// The arithmetic the pipeline benchmark reports, on inputs whose answers are known; no speed is asserted.
describe('benchmark arithmetic', () => {
  it('takes nearest-rank percentiles of sorted values', () => {
    const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(oneToHundred, 0.5), 50);
    assert.equal(percentile(oneToHundred, 0.99), 99);
    assert.equal(percentile(oneToHundred, 1), 100);
    assert.equal(percentile([7], 0.99), 7);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });

  it('summarizes unsorted latencies without reordering the caller’s array', () => {
    const values = [30, 10, 20, 40, 1000];
    const s = latencySummary(values);
    assert.deepEqual(s, { count: 5, p50: 30, p99: 1000, max: 1000 });
    assert.deepEqual(values, [30, 10, 20, 40, 1000]);
  });

  it('gives no ratio against a missing or zero baseline', () => {
    assert.equal(ratioOf(50, 200), 0.25);
    assert.equal(ratioOf(50, 0), undefined);
    assert.equal(ratioOf(Number.NaN, 10), undefined);
  });

  it('reads the steady rate between two fractions of a total, leaving out start-up and a held-back tail', () => {
    // idle for 2 s (processes starting), 1000/s for 8 s, then the last 10 % arrives 5 s later (held back)
    const series: CountAt[] = [];
    for (let t = 0; t <= 2000; t += 250) series.push({ tMs: t, count: 0 });
    for (let t = 2250; t <= 10_000; t += 250) series.push({ tMs: t, count: t - 2000 });
    series.push({ tMs: 15_000, count: 8000 }, { tMs: 15_250, count: 8889 });
    const total = 8889;
    const steady = windowRate(series, total, 0.1, 0.8);
    assert.ok(steady !== undefined && Math.abs(steady - 1000) < 1, `steady ${steady}`);
    const whole = total / ((15_250 - 0) / 1000);
    assert.ok(whole < 600, 'the total over the whole duration would understate it');
    assert.equal(windowRate(series, total * 2, 0.1, 0.9), undefined, 'never reached: no rate');
  });

  it('finds how fast a lag grows: ~0 when keeping up despite a pause, the shortfall when falling behind', () => {
    // steady lag of 500 with jitter, and a 3 s pause in the middle that piles up 3000 then drains
    const steady = Array.from({ length: 20 }, (_, i) => ({
      x: i * 0.5,
      y: 500 + (i % 2 ? 20 : -20) + (i >= 8 && i < 14 ? 500 * (i - 7) : 0),
    }));
    assert.ok(Math.abs(lagGrowth(steady)) < 30, `growth ${lagGrowth(steady)}`);
    const behind = Array.from({ length: 20 }, (_, i) => ({ x: i * 0.5, y: 300 * i * 0.5 }));
    assert.ok(Math.abs(lagGrowth(behind) - 300) < 1e-9);
    assert.equal(lagGrowth([{ x: 1, y: 2 }]), 0);
  });

  it('reads peak and current resident memory from /proc/<pid>/status text', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1200000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n';
    assert.equal(procStatusMb(status, 'VmHWM'), 200);
    assert.equal(procStatusMb(status, 'VmRSS'), 100);
    assert.equal(procStatusMb('Name:\tnode\n', 'VmHWM'), undefined);
  });
});
