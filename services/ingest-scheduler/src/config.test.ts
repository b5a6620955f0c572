import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '@busway/runtime';
import { IngestSchedulerConfigSchema } from './config.js';

const load = (env: Record<string, string>) => loadConfig(IngestSchedulerConfigSchema, { env });

describe('ingest-scheduler config', () => {
  it('has no sources by default, and fills every source default', () => {
    const c = load({});
    assert.deepEqual([c.slurm, c.kubernetes, c.stateBucket], [[], [], 'scheduler-state']);
    const full = load({
      BUSWAY_SLURM: JSON.stringify([
        { id: 'hpc', url: 'http://slurmctl:6820', user: 'busway', token: 'jwt' },
      ]),
      BUSWAY_KUBERNETES: JSON.stringify([
        { id: 'k8s', url: 'https://kubernetes.default.svc', tokenFile: '/var/run/secrets/token' },
      ]),
    });
    assert.deepEqual(full.slurm[0], {
      id: 'hpc',
      url: 'http://slurmctl:6820',
      user: 'busway',
      token: 'jwt',
      apiVersion: 'v0.0.41',
      pollIntervalMs: 5000,
      timeoutMs: 10_000,
      maxBackoffMs: 30_000,
      clockSource: 'ntp',
      emitQueued: true,
    });
    const k = full.kubernetes[0];
    assert.equal(k?.gpuResource, 'nvidia.com/gpu');
    assert.equal(k?.gpuPodsOnly, true);
    assert.equal(k?.watchTimeoutS, 300);
    assert.equal(k?.pageSize, 500);
  });

  it('fails fast naming the key and its env variable', () => {
    const rejects = (env: Record<string, string>, pattern: RegExp) =>
      assert.throws(
        () => load(env),
        (err: unknown) => err instanceof ConfigError && pattern.test(err.message),
      );
    rejects({ BUSWAY_SLURM: '[' }, /slurm \(env BUSWAY_SLURM\): not a JSON array of Slurm sources/);
    rejects(
      { BUSWAY_SLURM: JSON.stringify([{ id: 'a', url: 'http://x', user: 'u' }]) },
      /slurm\.0\.token.*needs token or tokenFile/,
    );
    rejects(
      {
        BUSWAY_SLURM: JSON.stringify([
          { id: 'a', url: 'http://x', user: 'u', token: 't', apiVersion: 'v0.0.38' },
        ]),
      },
      /apiVersion.*v0\.0\.40 or later/,
    );
    rejects(
      { BUSWAY_KUBERNETES: JSON.stringify([{ id: 'a.b', url: 'http://x' }]) },
      /kubernetes\.0\.id \(env BUSWAY_KUBERNETES\)/,
    );
    rejects(
      {
        BUSWAY_SLURM: JSON.stringify([{ id: 'c1', url: 'http://x', user: 'u', token: 't' }]),
        BUSWAY_KUBERNETES: JSON.stringify([{ id: 'C1', url: 'http://y' }]),
      },
      /duplicate source id 'C1'/,
    );
  });
});
