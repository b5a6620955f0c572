import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeEUInformation, standardUnits } from 'node-opcua';
import { uneceCodeOf, unitOfEuInformation } from './units.js';

describe('OPC UA EngineeringUnits → source unit', () => {
  it("takes the EUInformation's display name", () => {
    assert.equal(unitOfEuInformation(standardUnits.degree_celsius), '°C');
    assert.equal(unitOfEuInformation(standardUnits.kilowatt), 'kW');
  });

  it('falls back to the UNECE common code packed in unitId', () => {
    assert.equal(unitOfEuInformation(makeEUInformation('L2', '', 'litre per minute')), 'L2');
    assert.equal(uneceCodeOf(4408652), 'CEL');
    assert.equal(uneceCodeOf(-1), undefined, 'unitId -1: no unit');
    assert.equal(uneceCodeOf(0x0a0b0c), undefined, 'not letters or digits');
  });

  it('gives nothing for what is no EUInformation', () => {
    for (const v of [null, undefined, 42, 'kW', { displayName: { text: ' ' } }, { unitId: 'CEL' }])
      assert.equal(unitOfEuInformation(v), undefined);
  });
});
