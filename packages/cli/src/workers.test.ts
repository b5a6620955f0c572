import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '@busway/runtime';
import { CATALOG, loadWorker, PIPELINE } from './workers.js';

describe('the worker catalog', () => {
  it('loads every listed worker under the name and stage it lists', async () => {
    for (const entry of CATALOG) {
      const mod = await loadWorker(entry.name);
      assert.ok(mod, entry.name);
      assert.deepEqual({ name: mod.name, stage: mod.stage }, { name: entry.name, stage: entry.stage });
      assert.ok(mod.description.length > 10, `${entry.name} describes itself`);
      const config = loadConfig(mod.configSchema, { env: {}, worker: entry.name });
      // provisioning loads only the workers flagged as consuming: a missing flag leaves consumers uncreated (an
      // egress worker has none until its mappings are configured, so the flag may say more than the defaults)
      if (mod.consumers(config).length > 0) assert.ok(entry.consumes, `${entry.name} consumes`);
    }
    assert.equal(await loadWorker('no-such-worker'), undefined);
  });

  it('names each worker once, and the pipeline in flow order from ingest to fan-out', () => {
    assert.equal(new Set(CATALOG.map((w) => w.name)).size, CATALOG.length);
    const stages = PIPELINE.map((w) => w.stage);
    assert.deepEqual(
      [...new Set(stages)],
      ['ingest', 'normalize', 'correlate', 'anomaly', 'fanout', 'history', 'api'],
    );
  });
});
