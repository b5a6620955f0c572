import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { timeNsFromMs, type busway } from '@busway/proto';
import { WriteRuleSchema } from './config.js';
import { CommandRefused } from './errors.js';
import { RateLimits } from './rate-limit.js';
import type { CompiledRule, ResolvedPoint } from './rules.js';
import { checkAgainstRule, checkCommand, type Current } from './validate.js';

const NOW = 1_800_000_000_000;
const point: ResolvedPoint = {
  pointId: 'modbus:cdu-1:supply-sp',
  path: 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-1.temperature.coolant.supply.setpoint',
  metric: 'temperature.coolant.supply.setpoint',
  unit: 'Cel',
  scale: 1,
  normSubject: 'norm.v1.samples.ai1.h1.r1.plant-r1',
};
const compiled = (raw: Record<string, unknown>): CompiledRule => ({
  rule: WriteRuleSchema.parse({ point: point.pointId, ...raw }),
  target: point,
  readback: point,
});
const command = (over: Partial<busway.v1.ICommand> = {}): busway.v1.ICommand => ({
  commandId: 'cmd-0123456789',
  path: point.path,
  numberValue: 25,
  requestedBy: 'optimizer',
  scopes: ['read', 'write'],
  reason: 'test',
  requestedTimeNs: timeNsFromMs(NOW - 1000),
  expiresTimeNs: timeNsFromMs(NOW + 60_000),
  ...over,
});
const seen = (value: number): Current => ({ reading: { value, good: true, timeMs: NOW - 1000 } });

/** The refusal code of f, or 'accepted'. */
function verdict(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (err) {
    if (!(err instanceof CommandRefused)) throw err;
    assert.ok(err.message.length > 10, `a reason is given: ${err.message}`);
    return err.code;
  }
}

describe('command validation against write rules', () => {
  it('accepts exactly the values within [min, max] and within maxStep of the current value, and says why not', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -50, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 40, noNaN: true }),
        fc.double({ min: 0.1, max: 10, noNaN: true }),
        fc.double({ min: -100, max: 100, noNaN: true }),
        fc.double({ min: -100, max: 100, noNaN: true }),
        (min, width, maxStep, current, value) => {
          const max = min + width;
          const rule = compiled({ min, max, maxStep, minIntervalMs: 0 });
          const v = verdict(() =>
            checkAgainstRule(command({ numberValue: value }), rule, seen(current), new RateLimits(100), NOW),
          );
          const expected =
            value < min || value > max
              ? 'out-of-bounds'
              : Math.abs(value - current) > maxStep
                ? 'step-too-large'
                : 'accepted';
          assert.equal(v, expected);
        },
      ),
    );
  });

  it('refuses every command while blind, whatever its value: no value, or a reason the watch gives', () => {
    fc.assert(
      fc.property(fc.double({ min: 10, max: 40, noNaN: true }), fc.string({ minLength: 1 }), (value, why) => {
        const rule = compiled({ min: 10, max: 40, minIntervalMs: 0 });
        assert.equal(
          verdict(() =>
            checkAgainstRule(command({ numberValue: value }), rule, { blind: why }, new RateLimits(100), NOW),
          ),
          'blind',
        );
      }),
    );
  });

  it('refuses a requester without the write scope or outside the rule, and a second command inside minIntervalMs', () => {
    const rule = compiled({ min: 10, max: 40, minIntervalMs: 30_000, requesters: ['optimizer'] });
    const rates = new RateLimits(100);
    const check = (c: busway.v1.ICommand, at = NOW) =>
      verdict(() => checkAgainstRule(c, rule, seen(25), rates, at));
    assert.equal(check(command({ scopes: ['read'] })), 'not-authorized');
    assert.equal(check(command({ requestedBy: 'intern' })), 'not-authorized');
    assert.equal(check(command()), 'accepted');
    rates.record(point.pointId, 'optimizer', NOW);
    assert.equal(check(command(), NOW + 29_999), 'rate-limited');
    assert.equal(check(command(), NOW + 30_000), 'accepted');
  });

  it('limits each requester per minute over every point, with any interleaving of points', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 59_999 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 10 }),
        (offsets, limit) => {
          const rates = new RateLimits(limit);
          let accepted = 0;
          for (const [i, dt] of [...offsets].sort((a, b) => a - b).entries()) {
            const pointId = `p${i}`;
            if (rates.check(pointId, 0, 'bot', NOW + dt) === undefined) {
              rates.record(pointId, 'bot', NOW + dt);
              accepted++;
            }
          }
          assert.equal(
            accepted,
            Math.min(limit, offsets.length),
            'within one minute, exactly the limit passes',
          );
        },
      ),
    );
  });

  it('converts the command unit before the bounds: 86 degF is 30 Cel, 104 degF is out of [10, 35]', () => {
    const rule = compiled({ min: 10, max: 35, minIntervalMs: 0 });
    const rates = new RateLimits(100);
    assert.ok(
      Math.abs(
        (checkAgainstRule(
          command({ numberValue: 86, unit: '[degF]' }),
          rule,
          seen(29),
          rates,
          NOW,
        ) as number) - 30,
      ) < 1e-9,
    );
    assert.equal(
      verdict(() =>
        checkAgainstRule(command({ numberValue: 104, unit: 'degF' }), rule, seen(29), rates, NOW),
      ),
      'out-of-bounds',
    );
    assert.equal(
      verdict(() => checkAgainstRule(command({ numberValue: 5, unit: 'kW' }), rule, seen(29), rates, NOW)),
      'unit-mismatch',
    );
    assert.equal(
      verdict(() =>
        checkAgainstRule(command({ numberValue: null, boolValue: true }), rule, seen(29), rates, NOW),
      ),
      'wrong-type',
    );
  });

  it('refuses a command that expired or is malformed before looking at any rule', () => {
    const check = (c: busway.v1.ICommand) => verdict(() => checkCommand(c, NOW, 900_000));
    assert.equal(check(command()), 'accepted');
    assert.equal(check(command({ expiresTimeNs: timeNsFromMs(NOW) })), 'expired');
    assert.equal(check(command({ commandId: 'short' })), 'malformed');
    assert.equal(check(command({ numberValue: Number.NaN })), 'malformed');
    assert.equal(check(command({ reason: '' })), 'malformed');
    assert.equal(check(command({ expiresTimeNs: timeNsFromMs(NOW + 3_600_000) })), 'malformed');
  });
});
