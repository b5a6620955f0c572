import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchNormalizer } from './normalizer.bench.js';

// Keeps the benchmark runnable; its figures are judged by `npm run bench`, never here.
describe('normalizer benchmark (smoke run, no speed asserted)', () => {
  it('measures both paths on the same batches and reports a ratio to the pass-through baseline', () => {
    const rows = benchNormalizer({ points: 2000, batchSize: 64, rounds: 1, roundMs: 50 });
    const main = rows[0];
    assert.ok(main?.baseline && main.baseline.value > 0 && main.value > 0);
    assert.equal(main.ratio, main.value / main.baseline.value);
    assert.equal(
      rows.find((r) => r.name.startsWith('deadband'))?.value,
      10,
      '5 of the 50 racks report their 2 temperatures by exception',
    );
  });
});
