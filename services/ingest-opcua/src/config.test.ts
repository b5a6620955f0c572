import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '@busway/runtime';
import { IngestOpcuaConfigSchema } from './config.js';

const endpoint = (e: Record<string, unknown> = {}) => ({
  id: 'cdu-1',
  url: 'opc.tcp://10.0.4.21:4840',
  items: [{ nodeId: 'ns=2;s=SupplyTemp' }],
  ...e,
});
const load = (endpoints: unknown, env: Record<string, string> = {}) =>
  loadConfig(IngestOpcuaConfigSchema, { env: { BUSWAY_ENDPOINTS: JSON.stringify(endpoints), ...env } });

describe('ingest-opcua config', () => {
  it('fills every default', () => {
    const config = load([endpoint()]);
    assert.equal(config.pkiDir, 'pki');
    assert.equal(config.acceptUnknownCertificates, false);
    assert.equal(config.maxBufferBytes, 8 * 2 ** 20);
    const [e] = config.endpoints;
    assert.deepEqual(
      { ...e, items: undefined },
      {
        id: 'cdu-1',
        url: 'opc.tcp://10.0.4.21:4840',
        securityMode: 'None',
        securityPolicy: 'None',
        publishingIntervalMs: 1000,
        sessionTimeoutMs: 60_000,
        maxBackoffMs: 30_000,
        items: undefined,
      },
    );
    assert.deepEqual(e?.items[0], {
      nodeId: 'ns=2;s=SupplyTemp',
      samplingIntervalMs: 500,
      queueSize: 10,
      unit: '',
    });
  });

  it('reads booleans from the environment as words', () => {
    assert.equal(load([], { BUSWAY_ACCEPT_UNKNOWN_CERTIFICATES: 'true' }).acceptUnknownCertificates, true);
    assert.equal(load([], { BUSWAY_ACCEPT_UNKNOWN_CERTIFICATES: 'false' }).acceptUnknownCertificates, false);
  });

  it('fails fast, naming the key, on what cannot work', () => {
    const bad: [unknown, RegExp][] = [
      [[endpoint({ securityMode: 'SignAndEncrypt' })], /needs a securityPolicy other than None/],
      [[endpoint({ securityPolicy: 'Basic256Sha256' })], /needs securityPolicy None/],
      [[endpoint({ password: 'x' })], /a password needs a user/],
      [[endpoint({ publishingIntervalMs: 1000, sessionTimeoutMs: 3000 })], /at least 4 publishing intervals/],
      [[endpoint({ url: 'http://plc' })], /opc\.tcp/],
      [[endpoint({ items: [{ nodeId: 'garbage' }] })], /not an OPC UA node id/],
      [
        [endpoint({ items: [{ nodeId: 'ns=2;i=1' }, { nodeId: 'ns=2;i=2', name: 'ns=2;i=1' }] })],
        /duplicate point/,
      ],
      [
        [
          endpoint({
            items: [
              { nodeId: 'ns=2;i=1', name: 'a' },
              { nodeId: 'ns=2;i=01', name: 'b' },
            ],
          }),
        ],
        /listed twice/,
      ],
      [
        [endpoint({ items: [{ nodeId: 'ns=2;i=1', deadband: { type: 'percent', value: 150 } }] })],
        /0 to 100/,
      ],
      [[endpoint(), endpoint({ id: 'CDU-1' })], /duplicate endpoint id/],
      [[endpoint({ items: [] })], /endpoints\.0\.items/],
    ];
    for (const [endpoints, message] of bad) {
      assert.throws(() => load(endpoints), ConfigError);
      assert.throws(() => load(endpoints), message);
    }
    assert.throws(
      () => loadConfig(IngestOpcuaConfigSchema, { env: { BUSWAY_ENDPOINTS: '[{' } }),
      /endpoints \(env BUSWAY_ENDPOINTS\): not a JSON array/,
    );
  });

  it("reads endpoints from the config file's workers.ingest-opcua section", () => {
    const dir = mkdtempSync(join(tmpdir(), 'busway-opcua-config-'));
    try {
      const file = join(dir, 'busway.yaml');
      writeFileSync(
        file,
        [
          'workers:',
          '  ingest-opcua:',
          '    pkiDir: /var/lib/busway/pki',
          '    endpoints:',
          '      - id: cdu-1',
          '        url: opc.tcp://10.0.4.21:4840',
          '        securityMode: SignAndEncrypt',
          '        securityPolicy: Basic256Sha256',
          '        items:',
          '          - { nodeId: "ns=2;s=Flow", deadband: { type: absolute, value: 0.5 } }',
        ].join('\n'),
      );
      const config = loadConfig(IngestOpcuaConfigSchema, { file, worker: 'ingest-opcua', env: {} });
      assert.equal(config.pkiDir, '/var/lib/busway/pki');
      assert.equal(config.endpoints[0]?.securityMode, 'SignAndEncrypt');
      assert.deepEqual(config.endpoints[0]?.items[0]?.deadband, { type: 'absolute', value: 0.5 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
