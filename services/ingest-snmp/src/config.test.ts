import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '@busway/runtime';
import { IngestSnmpConfigSchema } from './config.js';

const point = (p: Record<string, unknown> = {}) => ({
  name: 'load',
  oid: '1.3.6.1.2.1.33.1.4.4.1.5.1',
  ...p,
});
const target = (t: Record<string, unknown> = {}) => ({
  id: 'ups-1',
  host: '10.0.0.5',
  points: [point()],
  ...t,
});
const user = { name: 'busway', authKey: 'auth-secret-1', privKey: 'priv-secret-1' };
const load = (targets: unknown, env: Record<string, string> = {}) =>
  loadConfig(IngestSnmpConfigSchema, { env: { BUSWAY_TARGETS: JSON.stringify(targets), ...env } });

describe('ingest-snmp config', () => {
  it('has no targets and no trap receiver by default, and fills every target and point default', () => {
    const c = loadConfig(IngestSnmpConfigSchema, { env: {} });
    assert.deepEqual(
      [
        c.targets,
        c.trapPort,
        c.trapAddress,
        c.trapCommunity,
        c.trapUsers,
        c.maxOidsPerRequest,
        c.maxPendingTraps,
      ],
      [[], 0, '0.0.0.0', 'public', [], 32, 1000],
    );
    const [t] = load([target({ points: [point({ oid: '.1.3.6.1.2.1.33.1.2.7.0' })] })]).targets;
    assert.deepEqual(t, {
      id: 'ups-1',
      host: '10.0.0.5',
      port: 161,
      version: 'v2c',
      community: 'public',
      pollIntervalMs: 5000,
      timeoutMs: 2000,
      retries: 1,
      maxBackoffMs: 30_000,
      points: [{ name: 'load', oid: '1.3.6.1.2.1.33.1.2.7.0', unit: '', scale: 1 }],
    });
  });

  it('reads a v3 target with its authPriv user, and trap users from JSON', () => {
    const c = load(
      [target({ version: 'v3', user, points: [point({ scale: 0.1, unit: 'A', type: 'gauge' })] })],
      {
        BUSWAY_TRAP_PORT: '10162',
        BUSWAY_TRAP_USERS: JSON.stringify([{ ...user, authProtocol: 'md5', privProtocol: 'des' }]),
      },
    );
    const [t] = c.targets;
    assert.equal(t?.version, 'v3');
    assert.deepEqual(t?.version === 'v3' && t.user, { ...user, authProtocol: 'sha', privProtocol: 'aes' });
    assert.deepEqual(t?.points[0], { ...point(), scale: 0.1, unit: 'A', type: 'gauge' });
    assert.equal(c.trapPort, 10162);
    assert.deepEqual(c.trapUsers, [{ ...user, authProtocol: 'md5', privProtocol: 'des' }]);
  });

  it('reads targets from the config file section of the worker', () => {
    const dir = mkdtempSync(join(tmpdir(), 'busway-snmp-'));
    try {
      const file = join(dir, 'busway.yaml');
      writeFileSync(
        file,
        [
          'workers:',
          '  ingest-snmp:',
          '    trapPort: 162',
          '    targets:',
          '      - id: pdu-a01',
          '        host: 10.0.1.20',
          '        community: ro-community',
          '        pollIntervalMs: 10000',
          '        points:',
          '          - { name: current, oid: 1.3.6.1.4.1.318.1.1.12.2.3.1.1.2.1, scale: 0.1, unit: A }',
        ].join('\n'),
      );
      const c = loadConfig(IngestSnmpConfigSchema, { file, worker: 'ingest-snmp', env: {} });
      const [t] = c.targets;
      assert.equal(t?.version === 'v2c' && t.community, 'ro-community');
      assert.equal(t?.pollIntervalMs, 10_000);
      assert.equal(t?.points[0]?.scale, 0.1);
      assert.equal(c.trapPort, 162);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails fast naming the key and BUSWAY_TARGETS, without echoing a secret', () => {
    const rejects = (targets: unknown, pattern: RegExp) =>
      assert.throws(
        () => load(targets),
        (err: unknown) =>
          err instanceof ConfigError && pattern.test(err.message) && !/secret|short-k/.test(err.message),
      );
    rejects([target({ version: 'v3' })], /targets\.0\.user \(env BUSWAY_TARGETS\)/);
    rejects([target({ version: 'v3', user: { ...user, privKey: 'short-k' } })], /targets\.0\.user\.privKey/);
    rejects([target({ version: 'v1' })], /targets\.0\.version/);
    rejects([target({ points: [point(), point({ oid: '1.3.6.1.2' })] })], /duplicate name 'load'/);
    rejects([target({ points: [point(), point({ name: 'other' })] })], /duplicate oid/);
    rejects([target(), target({ id: 'UPS-1' })], /duplicate target id 'UPS-1'/);
    rejects([target({ points: [point({ oid: 'upsBatteryTemperature.0' })] })], /a numeric OID/);
    rejects([target({ points: [point({ scale: 0 })] })], /points\.0\.scale/);
    rejects([target({ points: [point({ type: 'float' })] })], /points\.0\.type/);
    rejects([target({ points: [] })], /targets\.0\.points/);
    rejects([target({ id: 'a.b' })], /targets\.0\.id/);
    assert.throws(
      () => loadConfig(IngestSnmpConfigSchema, { env: { BUSWAY_TARGETS: '[{' } }),
      /not a JSON array/,
    );
    assert.throws(
      () => loadConfig(IngestSnmpConfigSchema, { env: { BUSWAY_TRAP_PORT: '70000' } }),
      /trapPort \(env BUSWAY_TRAP_PORT\)/,
    );
  });
});
