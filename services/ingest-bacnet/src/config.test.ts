import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '@busway/runtime';
import { IngestBacnetConfigSchema } from './config.js';

const load = (env: NodeJS.ProcessEnv, file?: string) =>
  loadConfig(IngestBacnetConfigSchema, { env, file, worker: 'ingest-bacnet' });

/** The README's example. */
const YAML = `
natsUrl: nats://nats:4222
workers:
  ingest-bacnet:
    port: 47808
    devices:
      - id: ahu-1
        address: 10.20.0.31
        deviceInstance: 1001
        pollIntervalMs: 5000
        objects:
          - { type: analog-input, instance: 1, name: supply air temperature }
          - { type: analog-value, instance: 2, name: fan power }
          - { type: binary-input, instance: 3, name: fan running, cov: true }
      - id: chiller-1
        address: 10.20.0.40:47809
        deviceInstance: 2002
        pollIntervalMs: 60000
        objects:
          - { type: analog-input, instance: 1, cov: true, covConfirmed: true, covLifetimeS: 600 }
`;

describe('BACnet bridge configuration', () => {
  it('reads devices as JSON from BUSWAY_DEVICES, with defaults', () => {
    const c = load({
      BUSWAY_PORT: '0',
      BUSWAY_DEVICES: JSON.stringify([
        { address: '192.168.1.20', deviceInstance: 77, objects: [{ type: 'analog-input', instance: 1 }] },
      ]),
    });
    assert.equal(c.port, 0);
    assert.equal(c.bindAddress, '0.0.0.0');
    assert.equal(c.covQueueLimit, 256);
    const [d] = c.devices;
    assert.equal(d?.id, '77', 'the device instance when no id is given');
    assert.equal(d?.address, '192.168.1.20:47808');
    assert.equal(d?.pollIntervalMs, 5000);
    assert.equal(d?.timeoutMs, 3000);
    assert.deepEqual(d?.objects[0], {
      type: 'analog-input',
      instance: 1,
      cov: false,
      covConfirmed: false,
      covLifetimeS: 300,
    });
  });

  it('reads the workers.ingest-bacnet section of a YAML config file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'busway-bacnet-')), 'busway.yaml');
    writeFileSync(file, YAML);
    const c = load({}, file);
    assert.equal(c.natsUrl, 'nats://nats:4222');
    assert.deepEqual(
      c.devices.map((d) => [d.id, d.address, d.objects.filter((o) => o.cov).length]),
      [
        ['ahu-1', '10.20.0.31:47808', 1],
        ['chiller-1', '10.20.0.40:47809', 1],
      ],
    );
    assert.equal(c.devices[1]?.objects[0]?.covLifetimeS, 600);
  });

  it('fails fast naming the key: bad JSON, a bad address, an unknown type, a duplicate object or id', () => {
    const rejects = (devices: unknown, why: RegExp) =>
      assert.throws(
        () => load({ BUSWAY_DEVICES: typeof devices === 'string' ? devices : JSON.stringify(devices) }),
        (err: unknown) =>
          err instanceof ConfigError && /BUSWAY_DEVICES/.test(err.message) && why.test(err.message),
      );
    const ai1 = { type: 'analog-input', instance: 1 };
    rejects('[{', /not a JSON array of devices/);
    rejects(
      [{ address: '10.0.0.300', deviceInstance: 1, objects: [ai1] }],
      /'10.0.0.300' is not an IPv4 address/,
    );
    rejects([{ address: 'bms.local', deviceInstance: 1, objects: [ai1] }], /not an IPv4 address/);
    rejects(
      [{ address: '10.0.0.1', deviceInstance: 1, objects: [{ type: 'analog-inptu', instance: 1 }] }],
      /type/,
    );
    rejects(
      [{ address: '10.0.0.1', deviceInstance: 1, objects: [ai1, ai1] }],
      /duplicate object analog-input:1/,
    );
    rejects(
      [
        { id: 'A', address: '10.0.0.1', deviceInstance: 1, objects: [ai1] },
        { id: 'a', address: '10.0.0.2', deviceInstance: 2, objects: [ai1] },
      ],
      /duplicate device id 'a'/,
    );
    rejects([{ address: '10.0.0.1', deviceInstance: 4_194_303, objects: [ai1] }], /deviceInstance/);
  });
});
