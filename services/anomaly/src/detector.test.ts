import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AnomalyConfigSchema } from './config.js';
import { Detector } from './detector.js';
import { Prng } from '@busway/runtime';

const opts = AnomalyConfigSchema.parse({});

describe('anomaly detector', () => {
  it('always scores in [0, 1], finite, whatever the series', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }), {
          maxLength: 200,
        }),
        (xs) => {
          const d = new Detector(opts);
          for (const x of xs) {
            const s = d.score('p', x);
            assert.ok(s.score >= 0 && s.score <= 1 && Number.isFinite(s.score), `${s.score} for ${x}`);
          }
        },
      ),
    );
  });

  it('learns quietly, then scores a spike high and ordinary noise low', () => {
    const d = new Detector(opts);
    const rng = new Prng(42);
    for (let i = 0; i < opts.warmupSamples; i++)
      assert.equal(d.score('p', 30 + rng.gaussian() * 0.1).label, 'learning');
    const normal = Array.from({ length: 500 }, () => d.score('p', 30 + rng.gaussian() * 0.1).score);
    const falseAlarms = normal.filter((s) => s > 0.8).length;
    assert.ok(falseAlarms <= 2, `${falseAlarms} false alarms in 500 normal samples`);
    const spike = d.score('p', 33);
    assert.equal(spike.label, 'spike');
    assert.ok(spike.score > 0.9, `spike score ${spike.score}`);
    assert.ok(d.score('p', 30.05).score < 0.5, 'the spike did not drag the baseline');
  });

  it('calls a sustained jump a level shift and adapts to it', () => {
    const d = new Detector(opts);
    const rng = new Prng(7);
    for (let i = 0; i < 200; i++) d.score('p', 10 + rng.gaussian() * 0.2);
    const labels = Array.from({ length: 40 }, () => d.score('p', 14 + rng.gaussian() * 0.2).label);
    assert.ok(labels.includes('level-shift'));
    assert.equal(labels.at(-1), 'normal', 'the new level became the baseline');
  });

  it('flags a varying sensor that freezes as stuck', () => {
    const d = new Detector({ ...opts, stuckSamples: 20 });
    const rng = new Prng(3);
    for (let i = 0; i < 100; i++) d.score('p', 50 + rng.gaussian());
    let last = d.score('p', 50.5);
    for (let i = 0; i < 20; i++) last = d.score('p', 50.5);
    assert.equal(last.label, 'stuck');
  });

  it('keeps at most maxSeries series, forgetting the least recently updated', () => {
    const d = new Detector({ ...opts, maxSeries: 3 });
    for (const k of ['a', 'b', 'c', 'a', 'd']) d.score(k, 1);
    assert.equal(d.size, 3);
    assert.equal(d.score('b', 1).label, 'learning', 'b was evicted and starts over');
  });
});
