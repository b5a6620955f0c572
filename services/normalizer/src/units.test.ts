import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UnitMismatch } from '@busway/runtime';
import { canonicalUnitOf, Metrics, QuantityKinds } from '@busway/proto';
import { conversion, toCanonical, toUcum } from './units.js';

describe('units', () => {
  it('maps source spellings to UCUM and leaves valid UCUM alone', () => {
    assert.equal(toUcum('degC'), 'Cel');
    assert.equal(toUcum('°F'), '[degF]');
    assert.equal(toUcum('LPM'), 'L/min');
    assert.equal(toUcum('kVA'), 'kV.A');
    assert.equal(toUcum('kPa'), 'kPa');
    assert.equal(toUcum('mA'), 'mA');
    assert.equal(toUcum('furlongs per fortnight'), null);
  });

  it('finds no spelling in the names of Object members: such a unit is a unit mismatch, not a crash', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      assert.equal(toUcum(name), null, name);
      assert.throws(() => toCanonical(1, name, 'power.active', 'p'), UnitMismatch, name);
    }
  });

  it('converts kW to W by 1000 and psi to kPa by 6.894757', () => {
    assert.equal(toCanonical(2.5, 'kW', 'power.active', 'p').value, 2500);
    assert.ok(Math.abs(toCanonical(1, 'psi', 'pressure.coolant.differential', 'p').value - 6.894757) < 1e-5);
    assert.equal(toCanonical(250, 'LPM', 'flow.coolant', 'p').unit, 'L/min');
  });

  it('round-trips temperatures between °F, K and °C', () => {
    fc.assert(
      fc.property(fc.double({ min: -200, max: 2000, noNaN: true }), (c) => {
        const f = (c * 9) / 5 + 32;
        const k = c + 273.15;
        assert.ok(Math.abs(toCanonical(f, 'degF', 'temperature.air.inlet', 'p').value - c) < 1e-6);
        assert.ok(Math.abs(toCanonical(k, 'K', 'temperature.gpu.die', 'p').value - c) < 1e-6);
        // === rather than Object.is: -0 °C and 0 °C are the same temperature.
        assert.ok(toCanonical(c, '°C', 'temperature.coolant.supply', 'p').value === c);
      }),
    );
  });

  it('rejects a unit that does not fit the quantity kind, naming point, unit and metric', () => {
    assert.throws(
      () => toCanonical(3, 'kW', 'temperature.coolant.supply', 'sparkplug:g/e/cdu:Supply'),
      (err: unknown) =>
        err instanceof UnitMismatch &&
        /'kW'.*sparkplug:g\/e\/cdu:Supply.*temperature\.coolant\.supply/.test(err.message),
    );
    assert.throws(() => toCanonical(3, 'bananas', 'power.active', 'p'), UnitMismatch);
  });

  it('reads BMS, BACnet and Redfish spellings: C on a temperature, degrees-fahrenheit, kilowatts, RPM', () => {
    assert.deepEqual(toCanonical(21.5, 'C', 'temperature.air.inlet', 'p'), { value: 21.5, unit: 'Cel' });
    assert.ok(
      Math.abs(toCanonical(212, 'degrees-fahrenheit', 'temperature.air.inlet', 'p').value - 100) < 1e-9,
    );
    assert.equal(toCanonical(1.2, 'kilowatts', 'power.active', 'p').value, 1200);
    assert.equal(toCanonical(60, 'liters-per-second', 'flow.coolant', 'p').value, 3600);
    assert.equal(toCanonical(1800, 'RPM', 'speed.fan', 'p').unit, '/min');
    assert.ok(Math.abs(toCanonical(100, 'GPM', 'flow.coolant', 'p').value - 378.5411784) < 1e-6);
    assert.equal(toCanonical(45, 'percent-relative-humidity', 'humidity.relative', 'p').unit, '%');
  });

  it('gives every quantity kind and every taxonomy metric a canonical unit that is valid UCUM', () => {
    for (const [kind, unit] of Object.entries(QuantityKinds)) {
      if (unit === '') continue;
      assert.notEqual(toUcum(unit), null, `${kind}: ${unit}`);
    }
    for (const metric of Object.keys(Metrics)) {
      const unit = canonicalUnitOf(metric);
      assert.notEqual(unit, undefined, metric);
      if (unit) assert.equal(typeof conversion(unit, unit), 'object', metric);
    }
  });
});
