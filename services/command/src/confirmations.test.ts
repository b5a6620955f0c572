import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Confirmations, reaches, type ConfirmOutcome, type Pending } from './confirmations.js';

const T = 1_800_000_000_000;
const pending = (over: Partial<Pending> = {}): Pending => ({
  commandId: 'cmd-1',
  readbackPointId: 'p',
  target: 25,
  tolerance: 0.5,
  sentAtMs: T,
  deadlineMs: Date.now() + 60_000,
  ...over,
});
const good = (value: number | boolean, timeMs = T + 1000) => ({ value, good: true, timeMs });

describe('confirmation of a sent command by its readback', () => {
  it('counts a good value within the tolerance, read at or after sending; nothing older, worse or further', () => {
    assert.equal(reaches(pending(), good(25.4)), true);
    assert.equal(reaches(pending(), good(24.5)), true);
    assert.equal(reaches(pending(), good(25.6)), false, 'outside the tolerance');
    assert.equal(reaches(pending(), { ...good(25), good: false }), false, 'bad quality');
    assert.equal(reaches(pending(), good(25, T - 1)), false, 'read before the command was sent');
    assert.equal(reaches(pending({ target: true }), good(1)), true, 'a state 1 is a switch that is on');
    assert.equal(reaches(pending({ target: false }), good(true)), false);
  });

  it('confirms once, on the first reading that reaches the setpoint, and ignores later ones', () => {
    const outcomes: ConfirmOutcome[] = [];
    const c = new Confirmations((_p, o) => outcomes.push(o));
    c.track(pending(), good(20, T - 5000));
    c.offer('p', good(22));
    c.offer('other', good(25));
    assert.equal(outcomes.length, 0);
    c.offer('p', good(25.2, T + 2000));
    c.offer('p', good(25, T + 3000));
    assert.equal(outcomes.length, 1);
    assert.deepEqual(outcomes[0], { kind: 'confirmed', reading: good(25.2, T + 2000) });
    assert.equal(c.size, 0);
    c.close();
  });

  it('fails at the deadline with the last value read, when the setpoint was never reached', async () => {
    const outcomes: ConfirmOutcome[] = [];
    const c = new Confirmations((_p, o) => outcomes.push(o));
    c.track(pending({ deadlineMs: Date.now() + 50 }), good(20, T - 5000));
    c.offer('p', good(23));
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(outcomes, [{ kind: 'timed-out', last: good(23) }]);
    c.offer('p', good(25));
    assert.equal(outcomes.length, 1, 'settled once');
  });

  it('settles at once when the current value already shows the setpoint, or the deadline is past', () => {
    const outcomes: string[] = [];
    const c = new Confirmations((p, o) => outcomes.push(`${p.commandId}:${o.kind}`));
    c.track(pending({ commandId: 'a' }), good(25));
    c.track(pending({ commandId: 'b', deadlineMs: Date.now() - 1 }), good(20));
    assert.deepEqual(outcomes, ['a:confirmed', 'b:timed-out']);
    assert.equal(c.size, 0);
  });
});
