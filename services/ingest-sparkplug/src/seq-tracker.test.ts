import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SeqTracker, type SeqStep } from './seq-tracker.js';

/** Feeds messages numbered from 0 (seq = n % 256) to a tracker born at seq 0, and returns every step. */
function feed(numbers: number[]): SeqStep[] {
  const t = new SeqTracker();
  t.restart(0);
  return numbers.map((n) => t.observe(n % 256));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('Sparkplug seq tracking', () => {
  it('sees no gap in an unbroken sequence, across wraps', () => {
    const steps = feed(range(1, 1000));
    assert.ok(steps.every((s) => !s.gap && !s.lost && s.missing === 0));
  });

  it('records a jump as missing seqs, and a late one fills its gap without moving the sequence back', () => {
    const steps = feed([1, 2, 5, 3, 6, 4, 7]);
    assert.deepEqual(
      steps.map((s) => [s.gap, s.missing]),
      [
        [false, 0],
        [false, 0],
        [true, 2],
        [false, 1],
        [false, 1],
        [false, 0],
        [false, 0],
      ],
    );
    assert.ok(steps.every((s) => !s.lost));
  });

  it('takes a repeated message for neither a gap nor a late one', () => {
    const steps = feed([1, 2, 3, 3, 2, 4]);
    assert.ok(steps.every((s) => !s.gap && !s.lost && s.missing === 0));
  });

  it('gives a seq up once the sequence is half its range past it, and counts the gap once however often seq wraps', () => {
    const numbers = range(1, 1000).filter((n) => n !== 4);
    const steps = feed(numbers);
    assert.equal(steps.filter((s) => s.gap).length, 1);
    assert.equal(steps.filter((s) => s.lost).length, 1);
    // lost when the sequence reached 4 + 128
    assert.equal(numbers[steps.findIndex((s) => s.lost)], 132);
    assert.equal(steps.at(-1)?.missing, 0);
  });

  it('counts one gap per run of lost messages, and gives each up at most once, whatever is lost', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 2000 }), { maxLength: 40 }), (dropped) => {
        const gone = new Set(dropped);
        const numbers = range(1, 2000).filter((n) => !gone.has(n));
        const steps = feed(numbers);
        const gaps = steps.filter((s) => s.gap).length;
        // a run of drops is one gap; a drop at the end is never seen as one
        const runs = numbers.filter((n, i) => n - (i === 0 ? 0 : (numbers[i - 1] as number)) > 1).length;
        assert.equal(gaps, runs);
        // each dropped seq is given up at most once, and one dropped well before the end is given up
        const lost = steps.filter((s) => s.lost).length;
        assert.ok(lost <= gone.size);
        if (dropped.some((n) => n <= 2000 - 130)) assert.ok(lost > 0);
      }),
    );
  });
});
