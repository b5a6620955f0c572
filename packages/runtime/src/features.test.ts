import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atLeast } from './features.js';

describe('server version checks', () => {
  it('orders versions numerically, not as text', () => {
    assert.equal(atLeast('2.9.10', '2.10.0'), false);
    assert.equal(atLeast('2.10.0', '2.10.0'), true);
    assert.equal(atLeast('2.11.3', '2.10.0'), true);
    assert.equal(atLeast('2.10.0-beta.1', '2.10.0'), true);
    assert.equal(atLeast('3.0.0', '2.11.0'), true);
  });
});
