import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOffsetMs } from './replay.js';

describe('capture offsets', () => {
  it('reads the Go-style durations the capture writes', () => {
    assert.equal(parseOffsetMs('0s'), 0);
    assert.equal(parseOffsetMs('3.4731ms'), 3.4731);
    assert.ok(Math.abs(parseOffsetMs('1m39.3675441s') - 99_367.5441) < 1e-6);
    assert.throws(() => parseOffsetMs('soon'), /bad offset/);
    assert.throws(() => parseOffsetMs('1s2x'), /bad offset/);
  });
});
