import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '@busway/runtime';
import { IngestDcgmConfigSchema } from './config.js';

const load = (env: Record<string, string>) => loadConfig(IngestDcgmConfigSchema, { env });

describe('ingest-dcgm config', () => {
  it('has no targets by default and fills every target default', () => {
    const c = load({});
    assert.deepEqual(c.targets, []);
    assert.equal(c.registerGpus, true);
    const [t] = load({
      BUSWAY_TARGETS: JSON.stringify([{ id: 'n1', url: 'http://n1:9400/metrics' }]),
    }).targets;
    assert.deepEqual(t, {
      id: 'n1',
      url: 'http://n1:9400/metrics',
      pollIntervalMs: 5000,
      timeoutMs: 3000,
      maxBackoffMs: 30_000,
      maxBodyBytes: 8 * 1024 * 1024,
      headers: {},
    });
  });

  it('reads field mappings and booleans from the env', () => {
    const c = load({
      BUSWAY_REGISTER_GPUS: 'false',
      BUSWAY_FIELDS: JSON.stringify({ DCGM_FI_DEV_FAN_SPEED: { metric: 'level.gpu.fan', unit: '%' } }),
    });
    assert.equal(c.registerGpus, false);
    assert.deepEqual(c.fields.DCGM_FI_DEV_FAN_SPEED, {
      metric: 'level.gpu.fan',
      unit: '%',
      kind: 'gauge',
      value: 'double',
    });
  });

  it('fails fast naming the key and its env variable', () => {
    const rejects = (env: Record<string, string>, pattern: RegExp) =>
      assert.throws(
        () => load(env),
        (err: unknown) => err instanceof ConfigError && pattern.test(err.message),
      );
    rejects({ BUSWAY_TARGETS: '[{' }, /targets \(env BUSWAY_TARGETS\): not a JSON array of targets/);
    rejects({ BUSWAY_TARGETS: JSON.stringify([{ id: 'a b', url: 'http://x' }]) }, /targets\.0\.id/);
    rejects({ BUSWAY_TARGETS: JSON.stringify([{ id: 'a', url: 'ftp://x' }]) }, /targets\.0\.url/);
    rejects(
      {
        BUSWAY_TARGETS: JSON.stringify([
          { id: 'A', url: 'http://x' },
          { id: 'a', url: 'http://y' },
        ]),
      },
      /duplicate target id 'a'/,
    );
    rejects(
      { BUSWAY_FIELDS: JSON.stringify({ X: { metric: 'Not A Metric' } }) },
      /fields\.X\.metric \(env BUSWAY_FIELDS\)/,
    );
    rejects({ BUSWAY_REGISTER_GPUS: 'maybe' }, /registerGpus \(env BUSWAY_REGISTER_GPUS\)/);
  });
});
