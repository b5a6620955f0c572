import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SequenceTracker } from './sequence.js';

describe('SequenceTracker', () => {
  it('takes rising sequences as new and counts the numbers skipped', () => {
    const t = new SequenceTracker();
    assert.deepEqual(t.observe('r', 5n, 'a'), { kind: 'new', missed: 0n });
    assert.deepEqual(t.observe('r', 6n, 'b'), { kind: 'new', missed: 0n });
    assert.deepEqual(t.observe('r', 10n, 'c'), { kind: 'new', missed: 3n });
  });

  it('drops the same sequence with the same content as a repeat, even an older one', () => {
    const t = new SequenceTracker();
    t.observe('r', 1n, 'a');
    t.observe('r', 2n, 'b');
    assert.deepEqual(t.observe('r', 2n, 'b'), { kind: 'repeat' });
    assert.deepEqual(t.observe('r', 1n, 'a'), { kind: 'repeat' });
  });

  it('takes a lower sequence with new content as a restarted count and counts on from it', () => {
    const t = new SequenceTracker();
    t.observe('r', 40n, 'a');
    assert.deepEqual(t.observe('r', 1n, 'x'), { kind: 'reset', from: 40n, to: 1n });
    assert.deepEqual(t.observe('r', 2n, 'y'), { kind: 'new', missed: 0n });
  });

  it('keeps reports apart and, without a sequence, dedups by content', () => {
    const t = new SequenceTracker();
    t.observe('a', 1n, 'f');
    assert.deepEqual(t.observe('b', 1n, 'f'), { kind: 'new', missed: 0n });
    assert.deepEqual(t.observe('c', undefined, 'f'), { kind: 'new', missed: 0n });
    assert.deepEqual(t.observe('c', undefined, 'f'), { kind: 'repeat' });
    assert.deepEqual(t.observe('c', undefined, 'g'), { kind: 'new', missed: 0n });
  });

  it('counts exactly the repeats and the lost reports of a stream that repeats and skips (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('next', 'repeat', 'skip'), { maxLength: 200 }), (steps) => {
        const t = new SequenceTracker();
        let seq = 1n;
        let missed = 0n;
        let repeats = 0;
        let counted = { missed: 0n, repeats: 0 };
        t.observe('r', seq, `f${seq}`);
        for (const step of steps) {
          if (step === 'repeat') repeats++;
          else if (step === 'skip') {
            seq += 2n;
            missed++;
          } else seq++;
          const v = t.observe('r', seq, `f${seq}`);
          if (v.kind === 'repeat') counted = { ...counted, repeats: counted.repeats + 1 };
          if (v.kind === 'new') counted = { ...counted, missed: counted.missed + v.missed };
        }
        assert.deepEqual(counted, { missed, repeats });
      }),
    );
  });
});
