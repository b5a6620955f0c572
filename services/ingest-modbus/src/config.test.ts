import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '@busway/runtime';
import { IngestModbusConfigSchema } from './config.js';

const point = (p: Record<string, unknown>) => ({ name: 'p', table: 'holding', address: 0, ...p });
const device = (d: Record<string, unknown>) => ({ id: 'plc-1', host: '10.0.0.5', points: [point({})], ...d });
const load = (devices: unknown) =>
  loadConfig(IngestModbusConfigSchema, { env: { BUSWAY_DEVICES: JSON.stringify(devices) } });

describe('ingest-modbus config', () => {
  it('has no devices by default, and fills every device and point default', () => {
    assert.deepEqual(loadConfig(IngestModbusConfigSchema, { env: {} }).devices, []);
    const [d] = load([device({ points: [point({}), point({ name: 'c', table: 'coil' })] })]).devices;
    assert.deepEqual(
      { ...d, points: undefined },
      {
        id: 'plc-1',
        host: '10.0.0.5',
        port: 502,
        unitId: 1,
        pollIntervalMs: 1000,
        timeoutMs: 1000,
        maxBackoffMs: 30_000,
        points: undefined,
      },
    );
    assert.deepEqual(d?.points[0], {
      name: 'p',
      table: 'holding',
      address: 0,
      type: 'uint16',
      byteOrder: 'big',
      wordOrder: 'big',
      scale: 1,
      offset: 0,
      unit: '',
    });
    assert.equal(d?.points[1]?.type, 'bool');
  });

  it('reads devices from the config file section of the worker, and maxGap / maxBlock from the env', () => {
    const dir = mkdtempSync(join(tmpdir(), 'busway-modbus-'));
    try {
      const file = join(dir, 'busway.yaml');
      writeFileSync(
        file,
        [
          'workers:',
          '  ingest-modbus:',
          '    devices:',
          '      - id: cdu-1',
          '        host: 10.0.0.9',
          '        unitId: 3',
          '        points:',
          '          - { name: supply-temp, table: input, address: 10, type: float32, wordOrder: little, unit: degC }',
        ].join('\n'),
      );
      const c = loadConfig(IngestModbusConfigSchema, {
        file,
        worker: 'ingest-modbus',
        env: { BUSWAY_MAX_GAP: '0', BUSWAY_MAX_BLOCK: '64' },
      });
      assert.equal(c.devices[0]?.unitId, 3);
      assert.equal(c.devices[0]?.points[0]?.wordOrder, 'little');
      assert.equal(c.maxGap, 0);
      assert.equal(c.maxBlock, 64);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails fast naming the key and BUSWAY_DEVICES', () => {
    const rejects = (devices: unknown, pattern: RegExp) =>
      assert.throws(
        () => load(devices),
        (err: unknown) => err instanceof ConfigError && pattern.test(err.message),
      );
    rejects(
      [device({ points: [point({}), point({ address: 4 })] })],
      /points\.1\.name \(env BUSWAY_DEVICES\): duplicate point 'p'/,
    );
    rejects([device({}), device({ id: 'PLC-1' })], /duplicate device id 'PLC-1'/);
    rejects([device({ points: [point({ table: 'coil', type: 'int16' })] })], /type must be bool/);
    rejects([device({ points: [point({ type: 'bool' })] })], /cannot be bool/);
    rejects([device({ points: [point({ address: 65_533, type: 'float64' })] })], /runs past address 65535/);
    rejects([device({ points: [point({ address: -1 })] })], /devices\.0\.points\.0\.address/);
    rejects([device({ points: [] })], /devices\.0\.points/);
    rejects([device({ id: 'a.b' })], /devices\.0\.id/);
    rejects([device({ unitId: 256 })], /devices\.0\.unitId/);
    assert.throws(
      () => loadConfig(IngestModbusConfigSchema, { env: { BUSWAY_DEVICES: '[{' } }),
      /not a JSON array of devices/,
    );
    assert.throws(
      () => loadConfig(IngestModbusConfigSchema, { env: { BUSWAY_MAX_BLOCK: '200' } }),
      /maxBlock \(env BUSWAY_MAX_BLOCK\)/,
    );
  });
});
