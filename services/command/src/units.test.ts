import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toCanonical } from '@busway/normalizer';
import { CommandRefused } from './errors.js';
import { canonicalToSource, commandToCanonical, sourceToCanonical } from './units.js';

/** Metrics and source units a write may meet (BMS engUnits, UCUM, BACnet names). */
const CASES: [string, string][] = [
  ['temperature.coolant.supply.setpoint', 'degF'],
  ['temperature.coolant.supply.setpoint', 'C'],
  ['temperature.coolant.supply.setpoint', 'K'],
  ['power.cap', 'kW'],
  ['power.cap', 'W'],
  ['flow.coolant', 'GPM'],
  ['flow.coolant', 'LPM'],
  ['pressure.coolant.differential', 'psi'],
  ['pressure.coolant.differential', 'bar'],
  ['position.valve', '%'],
];

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

describe('unit conversion of setpoints', () => {
  it('converts a canonical setpoint to the source unit and back to the same value, for every unit and scale', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CASES),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.constantFrom(1, 0.1, 0.01, 10),
        ([metric, unit], canonical, scale) => {
          const source = canonicalToSource(canonical, metric, unit, scale);
          assert.ok(
            close(sourceToCanonical(source, metric, unit, scale), canonical),
            `${canonical} via ${unit}`,
          );
        },
      ),
    );
  });

  it('writes exactly what the normalizer reads back: its own toCanonical of the source value is the setpoint', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CASES),
        fc.double({ min: -1e5, max: 1e5, noNaN: true }),
        ([metric, unit], canonical) => {
          const source = canonicalToSource(canonical, metric, unit);
          assert.ok(close(toCanonical(source, unit, metric, 'p').value, canonical));
        },
      ),
    );
  });

  it('knows the common cases: 30 Cel is 86 degF, 12 kW is 12000 W, a registry scale of 0.1 is tenths', () => {
    assert.ok(close(canonicalToSource(30, 'temperature.coolant.supply', 'degF'), 86));
    assert.ok(close(canonicalToSource(12_000, 'power.cap', 'kW'), 12));
    assert.ok(close(canonicalToSource(12_000, 'power.cap', 'kW', 0.1), 120));
    assert.ok(close(commandToCanonical(86, '[degF]', 'temperature.coolant.supply'), 30));
    assert.equal(commandToCanonical(25, '', 'temperature.coolant.supply'), 25, 'no unit: already canonical');
    assert.equal(commandToCanonical(25, 'Cel', 'temperature.coolant.supply'), 25);
  });

  it('refuses a unit that does not fit the metric, or that it cannot read, naming both', () => {
    const refusal = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        assert.ok(err instanceof CommandRefused);
        return `${err.code}: ${err.message}`;
      }
      assert.fail('no refusal');
    };
    assert.match(
      refusal(() => commandToCanonical(5, 'kW', 'temperature.coolant.supply')),
      /^unit-mismatch: unit 'kW'.*temperature/,
    );
    assert.match(
      refusal(() => commandToCanonical(5, 'furlongs', 'temperature.coolant.supply')),
      /^unit-mismatch: .*furlongs/,
    );
    assert.match(
      refusal(() => canonicalToSource(5, 'power.cap', '')),
      /^unit-mismatch: the source gives no unit/,
    );
    assert.match(
      refusal(() => canonicalToSource(5, 'power.cap', 'degC')),
      /^unit-mismatch: source unit 'degC'/,
    );
  });
});
