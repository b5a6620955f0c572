import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { loadConfig, unknownWorkerKeys } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'busway-config-'));
const file = join(dir, 'busway.yaml');
writeFileSync(
  file,
  [
    'natsUrl: nats://shared:4222 # a top-level key other workers read',
    'batchSize: 7',
    'workers:',
    '  bridge:',
    '    groups: hall1',
    '    reorderTimeoutMs: 5000 # moved to another worker',
    '  decoder:',
    '    batchSize: 9',
  ].join('\n'),
);
const Bridge = z.object({ groups: z.string().default('+'), batchSize: z.coerce.number().default(1) });

describe('the config file', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("applies its top level and the worker's own section, not another worker's", () => {
    const c = loadConfig(Bridge, { file, worker: 'bridge', env: {} });
    assert.deepEqual(c, { groups: 'hall1', batchSize: 7 });
  });

  it("names the keys of the worker's own section its schema does not know, and only those", () => {
    assert.deepEqual(unknownWorkerKeys(Bridge, { file, worker: 'bridge', env: {} }), ['reorderTimeoutMs']);
    assert.deepEqual(unknownWorkerKeys(Bridge, { file, worker: 'decoder', env: {} }), []);
    assert.deepEqual(
      unknownWorkerKeys(Bridge, { worker: 'bridge', env: {} }),
      [],
      'no file, nothing unknown',
    );
  });
});
