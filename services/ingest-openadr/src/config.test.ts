import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '@busway/runtime';
import { IngestOpenadrConfigSchema } from './config.js';

describe('ingest-openadr configuration', () => {
  it('reads lists and switches from the environment', () => {
    const c = loadConfig(IngestOpenadrConfigSchema, {
      env: {
        BUSWAY_VTN_URL: 'http://127.0.0.1:8088',
        BUSWAY_TARGETS: 'site-ai1, group-2',
        BUSWAY_METER_SUBJECTS: '["norm.v1.samples.ai1.h1.r1.plant-r1"]',
        BUSWAY_WEBHOOK: 'false',
      },
    });
    assert.deepEqual(c.targets, ['site-ai1', 'group-2']);
    assert.deepEqual(c.meterSubjects, ['norm.v1.samples.ai1.h1.r1.plant-r1']);
    assert.equal(c.webhook, false);
    assert.equal(c.pollIntervalMs, 30_000);
    assert.equal(c.meterMetric, 'power.active');
  });

  it('fails fast naming the key and its environment variable', () => {
    assert.throws(
      () => loadConfig(IngestOpenadrConfigSchema, { env: { BUSWAY_VTN_URL: 'not a url' } }),
      /vtnUrl \(env BUSWAY_VTN_URL\)/,
    );
    assert.throws(
      () => loadConfig(IngestOpenadrConfigSchema, { env: { BUSWAY_PAGE_SIZE: '51' } }),
      /pageSize/,
    );
    assert.throws(() => loadConfig(IngestOpenadrConfigSchema, { env: { BUSWAY_VTN_ID: 'VTN.1' } }), /vtnId/);
  });
});
