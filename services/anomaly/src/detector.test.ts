import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Prng } from '@busway/runtime';
import { DetectorOptionsSchema } from './config.js';
import { Detector, Explains, Label, scoreOf, type Score } from './detector.js';
import { STATE_BYTES, STRIDE } from './state-layout.js';

const opts = DetectorOptionsSchema.parse({});
const SEC = 1000;

/** Feeds `n` samples (one a second) of `gen` and returns every score, copied. */
function feed(d: Detector, n: number, gen: (i: number) => number, key = 'p', start = 0, dtMs = SEC): Score[] {
  const out: Score[] = [];
  for (let i = 0; i < n; i++) out.push({ ...d.score(key, (start + i) * dtMs, gen(start + i)) });
  return out;
}
const alarms = (scores: Score[]) => scores.filter((s) => s.score >= 0.5).length;

describe('the combined detector', () => {
  it('always scores in [0, 1], never NaN and never throws, whatever the values and times', () => {
    const value = fc.oneof(
      fc.double(), // includes NaN, ±Infinity, ±0 and the extremes
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.constantFrom(0, 1, 1e308, -1e308, Number.MIN_VALUE),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(value, fc.integer({ min: -1e6, max: 1e12 })), { maxLength: 300 }),
        (xs) => {
          const d = new Detector({ ...opts, warmupSamples: 5 });
          for (const [x, t] of xs) {
            const s = d.score('p', t, x);
            assert.ok(s.score >= 0 && s.score <= 1, `${s.score} for ${x}`);
            assert.ok(!Number.isNaN(s.score));
            assert.equal(typeof s.label, 'string');
          }
        },
      ),
    );
  });

  it('keeps the same number of bytes per series however long and wild the series', () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { minLength: 1, maxLength: 500 }), (xs) => {
        const d = new Detector(opts);
        d.score('p', 0, 1);
        const before = d.store.f64.length + d.store.f32.length;
        xs.forEach((x, i) => d.score('p', (i + 1) * SEC, x));
        assert.equal(d.store.f64.length + d.store.f32.length, before);
        assert.equal(d.size, 1);
      }),
    );
    assert.equal(STATE_BYTES, STRIDE * 8 + 24 * 4);
  });

  it('maps severity to a score of 0.5 at a threshold, rising toward 1, and 0 for nothing or NaN', () => {
    assert.equal(scoreOf(1), 0.5);
    assert.ok(scoreOf(2) > 0.9 && scoreOf(0.5) < 0.1);
    assert.equal(scoreOf(0), 0);
    assert.equal(scoreOf(Number.NaN), 0);
    assert.equal(scoreOf(Number.POSITIVE_INFINITY), 1);
  });

  it('learns quietly for warmupSamples, then scores', () => {
    const d = new Detector(opts);
    const rng = new Prng(1);
    const scores = feed(d, opts.warmupSamples + 5, () => 20 + rng.gaussian());
    assert.ok(scores.slice(0, opts.warmupSamples).every((s) => s.label === Label.Learning && s.score === 0));
    assert.ok(scores.slice(opts.warmupSamples).every((s) => s.label !== Label.Learning));
  });

  it('scores a NaN as missing without touching the series', () => {
    const d = new Detector(opts);
    const rng = new Prng(2);
    feed(d, 100, () => 5 + rng.gaussian());
    const before = d.peek('p');
    const s = d.score('p', 101 * SEC, Number.NaN);
    assert.equal(s.label, Label.Missing);
    assert.equal(s.score, 0);
    assert.deepEqual(d.peek('p'), before);
  });

  it('stays quiet on 50,000 samples of Gaussian noise', () => {
    const rng = new Prng(3);
    const scores = feed(new Detector(opts), 50_000, () => 100 + 2 * rng.gaussian());
    assert.equal(alarms(scores), 0, 'no sample reaches 0.5');
  });

  it('learns heavy tails (Student t, 3 degrees of freedom): false alarms stay rare', () => {
    const rng = new Prng(4);
    const t3 = () => {
      let c = 0;
      for (let k = 0; k < 3; k++) c += rng.gaussian() ** 2;
      return rng.gaussian() / Math.sqrt(c / 3);
    };
    const scores = feed(new Detector(opts), 50_000, () => 10 + t3());
    assert.ok(alarms(scores) < 100, `${alarms(scores)} of 50,000 samples at 0.5 or more`);
  });

  it('does not call a slowly varying quantized sensor stuck, nor drifting', () => {
    const rng = new Prng(5);
    const scores = feed(
      new Detector(opts),
      50_000,
      (i) => Math.round(2 * (20 + 3 * Math.sin(i / 500) + 0.3 * rng.gaussian())) / 2,
    );
    assert.equal(alarms(scores), 0);
  });

  it('learns afresh when a flat series starts to vary, instead of alarming on its first noise', () => {
    const rng = new Prng(6);
    const scores = feed(new Detector(opts), 6000, (i) => (i < 2000 ? 5 : 5 + rng.gaussian()));
    assert.equal(alarms(scores), 0);
    assert.equal(scores[2000]?.label, Label.Learning);
  });

  it('scores an explained level shift as expected, and confirms an explained jump that comes back as a spike', () => {
    const d = new Detector(opts);
    const rng = new Prng(7);
    feed(d, 300, () => 50 + rng.gaussian());
    const step: Score[] = [];
    for (let i = 300; i < 320; i++)
      step.push({ ...d.score('p', i * SEC, 60 + rng.gaussian(), undefined, Explains.Rise) });
    assert.ok(
      step.some((s) => s.label === Label.Expected),
      'the rise is expected',
    );
    assert.ok(step.every((s) => s.label !== Label.LevelShift && s.label !== Label.Spike));
    feed(d, 300, () => 60 + rng.gaussian(), 'p', 320);
    const jump = d.score('p', 620 * SEC, 80, undefined, Explains.Rise);
    assert.equal(jump.label, Label.Expected, 'a jump inside the window may be the step: held back');
    const back = d.score('p', 621 * SEC, 60, undefined, Explains.Rise);
    assert.equal(back.label, Label.Spike, 'it came back: it was a spike after all');
    assert.ok(back.score >= 0.5);
  });

  it('calls the return to the level before a fault a recovery, not a new finding', () => {
    const rng = new Prng(9);
    const scores = feed(
      new Detector(opts),
      3000,
      (i) => 10 + (i >= 1000 && i < 1300 ? 6 : 0) + rng.gaussian(),
    );
    const episodes = scores.filter((s, i) => s.score >= 0.5 && (scores[i - 1]?.score ?? 0) < 0.5 && i < 1300);
    assert.ok(episodes.length >= 1 && episodes.every((s) => scores.indexOf(s) >= 1000), 'found at the onset');
    const back = scores.slice(1300, 1320).find((s) => s.label === Label.Recovery);
    assert.ok(back, 'the return is a recovery');
    assert.equal(scores.slice(1300).filter((s) => s.score >= 0.5).length, 0, 'nothing new after it');
  });

  it('does not explain a change in the other direction', () => {
    const d = new Detector(opts);
    const rng = new Prng(8);
    feed(d, 300, () => 50 + rng.gaussian());
    const fall: Score[] = [];
    for (let i = 300; i < 320; i++)
      fall.push({ ...d.score('p', i * SEC, 40 + rng.gaussian(), undefined, Explains.Rise) });
    assert.ok(fall.some((s) => s.score >= 0.5 && s.label !== Label.Expected));
  });

  it('keeps at most maxSeries series, forgetting one not used since the clock hand last passed', () => {
    const d = new Detector({ ...opts, maxSeries: 3 });
    for (const k of ['a', 'b', 'c', 'a', 'd']) d.score(k, 0, 1);
    assert.equal(d.size, 3);
    assert.equal(d.peek('b'), undefined, 'b was evicted: a was used again');
    assert.equal(d.score('b', 1, 1).label, Label.Learning, 'and starts over');
    assert.equal(d.size, 3);
  });

  it('starts a series over instead of carrying NaN when its values overflow', () => {
    const d = new Detector({ ...opts, warmupSamples: 2 });
    for (let i = 0; i < 50; i++) d.score('p', i, i % 2 ? 1e308 : -1e308);
    const p = d.peek('p');
    assert.ok(p && Number.isFinite(p.level) && Number.isFinite(p.sigma));
  });
});
