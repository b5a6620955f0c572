import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Prng } from '@busway/runtime';
import { DetectorOptionsSchema } from '../config.js';
import { Detector, Label, type Score } from '../detector.js';
import { F, Flag, PROFILE_BUCKETS, STRIDE, hasFlag } from '../state-layout.js';
import { resetCusum, updateCusum } from './change-point.js';
import { seasonalOffset, updateSeasonal, DAY_MS } from './seasonal.js';
import { updateStuck } from './stuck.js';
import { spikeSeverity } from './transient.js';

const opts = DetectorOptionsSchema.parse({});
const SEC = 1000;

function feed(d: Detector, n: number, gen: (i: number) => number, dtMs = SEC, start = 0): Score[] {
  const out: Score[] = [];
  for (let i = start; i < start + n; i++) out.push({ ...d.score('p', i * dtMs, gen(i)) });
  return out;
}
const firstAlarm = (scores: Score[], from: number) => scores.findIndex((s, i) => i >= from && s.score >= 0.5);
const alarmsBefore = (scores: Score[], to: number) =>
  scores.slice(0, to).filter((s) => s.score >= 0.5).length;

describe('transient (spike) detector', () => {
  it('is 1 at the threshold and signed', () => {
    assert.equal(spikeSeverity(6, 6), 1);
    assert.equal(spikeSeverity(-12, 6), -2);
  });

  it('flags a single spike at once, without dragging the baseline, and stays quiet on the noise around it', () => {
    const rng = new Prng(11);
    const scores = feed(new Detector(opts), 4000, (i) => 10 + (i === 2000 ? 10 : 0) + rng.gaussian());
    assert.equal(scores[2000]?.label, Label.Spike);
    assert.ok((scores[2000]?.score ?? 0) > 0.8, 'a 10-sigma spike scores high');
    assert.ok((scores[2001]?.score ?? 1) < 0.5, 'the next sample is normal again');
    assert.equal(scores.filter((s) => s.score >= 0.5).length, 1, 'one spike, one finding');
  });
});

describe('change-point detector (CUSUM)', () => {
  it('accumulates a sustained residual, caps what one sample adds, and resets', () => {
    const s = new Float64Array(STRIDE);
    assert.ok(updateCusum(s, 0, 100, 10) < 0.4, 'one huge residual adds at most CUSUM_CLIP - allowance');
    for (let i = 0; i < 3; i++) updateCusum(s, 0, 3, 10);
    assert.ok(updateCusum(s, 0, 3, 10) >= 1, 'four samples 3 sigma up cross the threshold');
    resetCusum(s, 0);
    assert.ok(updateCusum(s, 0, -4, 10) < 0, 'downward changes are negative');
  });

  it('finds a 4-sigma level shift within a few samples, and it stays one finding until it is the new normal', () => {
    const rng = new Prng(12);
    const scores = feed(new Detector(opts), 6000, (i) => 10 + (i >= 2000 ? 4 : 0) + rng.gaussian());
    const at = firstAlarm(scores, 2000);
    assert.ok(at >= 2000 && at <= 2010, `found at ${at}`);
    assert.equal(scores[at]?.label, Label.LevelShift);
    assert.equal(alarmsBefore(scores, 2000), 0);
    const later = scores.slice(at + 1);
    assert.equal(later.filter((s) => s.label === Label.LevelShift).length, 0, 'no second change point');
    assert.equal(scores.slice(4000).filter((s) => s.score >= 0.25).length, 0, 'the new level is normal now');
  });
});

describe('drift detector', () => {
  it('catches a slow ramp that never jumps (0.05 sigma a sample)', () => {
    const rng = new Prng(13);
    const scores = feed(
      new Detector(opts),
      2600,
      (i) => 10 + (i >= 2000 ? (i - 2000) * 0.05 : 0) + rng.gaussian(),
    );
    const at = firstAlarm(scores, 2000);
    assert.ok(at > 2000 && at < 2200, `found at ${at}`);
    assert.ok([Label.Drift, Label.LevelShift].includes(scores[at]?.label as never));
    assert.equal(alarmsBefore(scores, 2000), 0);
  });

  it('catches a very slow ramp (0.01 sigma a sample) before it reaches 6 sigma', () => {
    const rng = new Prng(14);
    const scores = feed(
      new Detector(opts),
      3000,
      (i) => 10 + (i >= 2000 ? (i - 2000) * 0.01 : 0) + rng.gaussian(),
    );
    const at = firstAlarm(scores, 2000);
    assert.ok(at > 2000 && at < 2600, `found at ${at}`);
    assert.equal(scores[at]?.label, Label.Drift);
  });

  it('learns that an autocorrelated series wanders: few alarms on 50,000 samples of AR(1) noise', () => {
    const rng = new Prng(15);
    let a = 0;
    const scores = feed(new Detector(opts), 50_000, () => (a = 0.9 * a + rng.gaussian()));
    const raised = scores.filter((s, i) => s.score >= 0.5 && (scores[i - 1]?.score ?? 0) < 0.5).length;
    assert.ok(raised < 150, `${raised} separate findings in 50,000 samples`);
  });
});

describe('stuck detector', () => {
  it('flags a varying sensor that freezes once it has repeated for stuckSamples', () => {
    const rng = new Prng(16);
    const scores = feed(new Detector(opts), 4000, (i) =>
      i >= 2000 && i < 2030 ? 10.25 : 10 + rng.gaussian(),
    );
    const at = firstAlarm(scores, 2000);
    assert.equal(at, 2000 + opts.stuckSamples - 1);
    assert.equal(scores[at]?.label, Label.Stuck);
    assert.equal(alarmsBefore(scores, 2000), 0);
  });

  it('learns a series that repeats values normally and needs a run three times its longest', () => {
    const s = new Float64Array(STRIDE);
    const seq = [1, 1, 1, 1, 1, 1, 1, 1, 2]; // a healthy run of 8 identical values
    for (const x of seq) {
      updateStuck(s, 0, x, 10);
      s[F.lastX] = x;
    }
    assert.equal(s[F.maxRun], 8);
    let severity = 0;
    for (let i = 0; i < 22; i++) severity = updateStuck(s, 0, 2, 10);
    assert.ok(severity < 1, '23 identical values are not yet 3 x 8');
    assert.ok(updateStuck(s, 0, 2, 10) >= 1, 'the 24th is');
  });

  it('never calls a series stuck that has never varied', () => {
    const scores = feed(new Detector(opts), 500, () => 3);
    assert.ok(scores.every((s) => s.label === Label.Learning));
  });
});

describe('daily seasonality', () => {
  const daily = (i: number, rng: Prng, dtMs: number) =>
    50 + 20 * Math.sin((2 * Math.PI * i * dtMs) / DAY_MS) + rng.gaussian();

  it('switches on after two days of a daily pattern, and then catches what breaks it', () => {
    const rng = new Prng(17);
    const d = new Detector(opts);
    const dt = 300_000; // 5-minute samples, 288 a day
    const scores = feed(
      d,
      288 * 10,
      (i) => daily(i, rng, dt) + (i >= 288 * 9 && i < 288 * 9 + 24 ? 8 : 0),
      dt,
    );
    assert.ok(d.peek('p')?.seasonal, 'seasonality is on');
    const at = firstAlarm(scores, 288 * 9);
    assert.ok(
      at >= 288 * 9 && at < 288 * 9 + 12,
      `a +8 bump (0.4 of the daily swing) found at ${at - 288 * 9}`,
    );
    const late = scores.slice(288 * 3, 288 * 9).filter((s) => s.score >= 0.5).length;
    assert.equal(late, 0, 'no alarm on the pattern itself once it is known');
  });

  it('stays off for white noise and for a random walk', () => {
    const rng = new Prng(18);
    const noise = new Detector(opts);
    feed(noise, 288 * 7, () => 50 + rng.gaussian(), 300_000);
    assert.equal(noise.peek('p')?.seasonal, false);
    const walk = new Detector(opts);
    let w = 0;
    feed(walk, 288 * 7, () => (w += rng.gaussian()), 300_000);
    assert.equal(walk.peek('p')?.seasonal, false);
  });

  it('interpolates the profile between bucket centres and centres it on zero', () => {
    const s = new Float64Array(STRIDE);
    const p = new Float32Array(PROFILE_BUCKETS).fill(0);
    p[0] = 24;
    s[F.profileMean] = 1;
    const hour = DAY_MS / PROFILE_BUCKETS;
    assert.equal(seasonalOffset(s, 0, p, 0, hour / 2), 23, 'bucket 0 centre');
    assert.equal(seasonalOffset(s, 0, p, 0, hour), 11, 'half way to bucket 1');
    s[F.visitBucket] = -1;
    updateSeasonal(s, 0, p, 0, 0, 1, 2);
    assert.equal(hasFlag(s, 0, Flag.Seasonal), false);
  });
});
