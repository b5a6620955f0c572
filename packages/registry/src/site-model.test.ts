import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSiteModel } from './site-model.js';

const model = (metric: string) => ({
  site: 'ai1',
  assets: [{ id: 'cdu-1', class: 'cdu', hall: 'h1' }],
  points: [{ pointId: 'x:y:z', asset: 'cdu-1', metric }],
});

describe('site model taxonomy', () => {
  it('accepts a metric of a known quantity kind, listed or not', () => {
    assert.equal(
      parseSiteModel(model('temperature.coolant.supply')).points[0]?.metric,
      'temperature.coolant.supply',
    );
    assert.equal(
      parseSiteModel(model('temperature.pump.bearing')).points[0]?.metric,
      'temperature.pump.bearing',
    );
  });

  it('rejects a metric whose first token is not a quantity kind, naming the point', () => {
    assert.throws(
      () => parseSiteModel(model('supply.temp')),
      /points\.0\.metric: the first token must be a quantity kind/,
    );
  });
});
