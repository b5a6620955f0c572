import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { realAlias, type StoredBirth } from './sparkplug.js';

describe('aliases from a stored Sparkplug birth', () => {
  it('uses an alias the birth gave one metric, and names metrics stored with 0 or with an alias they share', () => {
    // ingest-sparkplug stores alias 0 for every metric born without one (the protobuf default)
    const birth: StoredBirth = {
      metrics: [
        { name: 'Setpoints/Supply', datatype: 9, unit: 'degF', alias: 7 },
        { name: 'Pump/Run', datatype: 11, unit: '', alias: 0 },
        { name: 'Fan/Run', datatype: 11, unit: '', alias: 0 },
        { name: 'A', datatype: 10, unit: '', alias: 3 },
        { name: 'B', datatype: 10, unit: '', alias: 3 },
        { name: 'C', datatype: 10, unit: '' },
      ],
    };
    const alias = (name: string) =>
      realAlias(birth.metrics.find((m) => m.name === name) as StoredBirth['metrics'][number], birth);
    assert.equal(alias('Setpoints/Supply'), 7);
    assert.equal(alias('Pump/Run'), undefined);
    assert.equal(alias('A'), undefined, 'an alias two metrics share names neither');
    assert.equal(alias('C'), undefined);
  });
});
