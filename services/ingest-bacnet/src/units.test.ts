import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineeringUnits, ObjectType } from '@bacnet-js/client';
import { toUcum } from '@busway/normalizer';
import { kebabOf, OBJECT_TYPES, objectTypeOf } from './object-types.js';
import { unitNameOf } from './units.js';

describe('BACnet engineering units and object types by name', () => {
  it('names the common units as the normalizer reads them, each to its UCUM code', () => {
    const common: [EngineeringUnits, string, string][] = [
      [EngineeringUnits.DEGREES_CELSIUS, 'degrees-celsius', 'Cel'],
      [EngineeringUnits.DEGREES_FAHRENHEIT, 'degrees-fahrenheit', '[degF]'],
      [EngineeringUnits.DEGREES_KELVIN, 'degrees-kelvin', 'K'],
      [EngineeringUnits.WATTS, 'watts', 'W'],
      [EngineeringUnits.KILOWATTS, 'kilowatts', 'kW'],
      [EngineeringUnits.MEGAWATTS, 'megawatts', 'MW'],
      [EngineeringUnits.WATT_HOURS, 'watt-hours', 'W.h'],
      [EngineeringUnits.KILOWATT_HOURS, 'kilowatt-hours', 'kW.h'],
      [EngineeringUnits.VOLT_AMPERES, 'volt-amperes', 'V.A'],
      [EngineeringUnits.KILOVOLT_AMPERES, 'kilovolt-amperes', 'kV.A'],
      [EngineeringUnits.KILOVOLT_AMPERES_REACTIVE, 'kilovolt-amperes-reactive', 'kV.A'],
      [EngineeringUnits.AMPERES, 'amperes', 'A'],
      [EngineeringUnits.MILLIAMPERES, 'milliamperes', 'mA'],
      [EngineeringUnits.VOLTS, 'volts', 'V'],
      [EngineeringUnits.KILOVOLTS, 'kilovolts', 'kV'],
      [EngineeringUnits.HERTZ, 'hertz', 'Hz'],
      [EngineeringUnits.LITERS_PER_MINUTE, 'liters-per-minute', 'L/min'],
      [EngineeringUnits.LITERS_PER_SECOND, 'liters-per-second', 'L/s'],
      [EngineeringUnits.US_GALLONS_PER_MINUTE, 'us-gallons-per-minute', '[gal_us]/min'],
      [EngineeringUnits.CUBIC_FEET_PER_MINUTE, 'cubic-feet-per-minute', '[cft_i]/min'],
      [EngineeringUnits.CUBIC_METERS_PER_HOUR, 'cubic-meters-per-hour', 'm3/h'],
      [EngineeringUnits.PASCALS, 'pascals', 'Pa'],
      [EngineeringUnits.KILOPASCALS, 'kilopascals', 'kPa'],
      [EngineeringUnits.BARS, 'bars', 'bar'],
      [EngineeringUnits.POUNDS_FORCE_PER_SQUARE_INCH, 'pounds-force-per-square-inch', '[psi]'],
      [EngineeringUnits.PERCENT_RELATIVE_HUMIDITY, 'percent-relative-humidity', '%'],
      [EngineeringUnits.PERCENT, 'percent', '%'],
      [EngineeringUnits.REVOLUTIONS_PER_MINUTE, 'revolutions-per-minute', '/min'],
      [EngineeringUnits.NO_UNITS, 'no-units', '1'],
    ];
    for (const [units, name, ucum] of common) {
      assert.equal(unitNameOf(units), name, `EngineeringUnits ${units}`);
      assert.equal(toUcum(name), ucum, `the normalizer reads '${name}'`);
    }
  });

  it('gives every defined unit a distinct kebab-case name, and none to a number outside the enumeration', () => {
    const numbers = Object.values(EngineeringUnits).filter((v): v is number => typeof v === 'number');
    assert.ok(numbers.length > 200);
    const names = numbers.map((n) => unitNameOf(n));
    for (const name of names) assert.match(name ?? '', /^[a-z0-9]+(-[a-z0-9]+)*$/);
    assert.equal(new Set(names).size, numbers.length);
    for (const n of [-1, 1.5, 9999, 65_535]) assert.equal(unitNameOf(n), undefined, String(n));
  });

  it('maps every configurable object type to its BACnet number and back', () => {
    for (const name of OBJECT_TYPES) {
      const n = objectTypeOf(name);
      assert.equal(typeof n, 'number', name);
      assert.equal(kebabOf(ObjectType[n] ?? ''), name);
    }
    assert.equal(objectTypeOf('analog-input'), 0);
    assert.equal(objectTypeOf('multi-state-value'), 19);
  });
});
