import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { openAdrSpec } from '@busway/simulator';
import { PAYLOAD_RULES, PRICE_TYPES } from './payloads.js';
import { KNOWN_UNITS, ucumOf } from './units.js';

const require = createRequire(import.meta.url);
const utils = (
  require('@lhncbc/ucum-lhc') as {
    UcumLhcUtils: { getInstance(): { validateUnitString(u: string): { status: string } } };
  }
).UcumLhcUtils.getInstance();
const valid = (unit: string) => unit === '' || utils.validateUnitString(unit).status === 'valid';

describe('OpenADR units as UCUM', () => {
  it('maps every unit of the 3.1.0 enumeration, and nothing else, to a valid UCUM code', () => {
    assert.deepEqual([...KNOWN_UNITS].sort(), [...openAdrSpec().units].sort());
    for (const units of KNOWN_UNITS) {
      const { unit } = ucumOf('DISPATCH_SETPOINT', units, null);
      assert.ok(valid(unit), `${units} -> ${unit}`);
    }
    assert.deepEqual(ucumOf('IMPORT_CAPACITY_LIMIT', 'KW', null), { unit: 'kW', factor: 1 });
    assert.equal(ucumOf('constructor', null, null).unit, '', 'no implied unit for an unknown type');
    assert.deepEqual(ucumOf('CONTROL_LEVEL_OFFSET_PERCENT', null, null), { unit: '%', factor: 100 });
    assert.deepEqual(ucumOf('GHG', undefined, undefined), { unit: 'g/(kW.h)', factor: 1 });
  });

  it('writes a price as currency per unit of what it buys, in UCUM', () => {
    assert.equal(ucumOf('PRICE', 'KWH', 'USD').unit, '{USD}/(kW.h)');
    assert.equal(ucumOf('EXPORT_PRICE', null, 'EUR').unit, '{EUR}');
    assert.equal(ucumOf('PRICE', 'KW', null).unit, '1/(kW)');
  });

  it('gives valid UCUM for any payload type, unit and currency a VTN may send, private ones included', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(PAYLOAD_RULES), ...PRICE_TYPES),
        fc.option(fc.oneof(fc.constantFrom(...KNOWN_UNITS), fc.string({ minLength: 1, maxLength: 20 })), {
          nil: null,
        }),
        fc.option(fc.constantFrom('USD', 'EUR', 'JPY', '{odd}'), { nil: null }),
        (type, units, currency) => {
          const { unit, factor } = ucumOf(type, units, currency);
          assert.ok(valid(unit), `${type} ${String(units)} ${String(currency)} -> ${unit}`);
          assert.ok(factor === 1 || factor === 100);
        },
      ),
    );
  });
});
