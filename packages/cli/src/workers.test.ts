import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATALOG, LAZY_WORKERS, loadWorker } from './workers.js';

describe('the worker catalog', () => {
  it('loads every listed worker, lazy ones included, under the name, stage and description it lists', async () => {
    for (const entry of CATALOG) {
      const mod = await loadWorker(entry.name);
      assert.ok(mod, entry.name);
      assert.deepEqual(
        { name: mod.name, stage: mod.stage, description: mod.description },
        { name: entry.name, stage: entry.stage, description: entry.description },
      );
    }
    assert.ok(LAZY_WORKERS.length > 0);
    assert.equal(await loadWorker('no-such-worker'), undefined);
  });
});
