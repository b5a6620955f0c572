import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '@busway/runtime';
import { IngestRedfishConfigSchema } from './config.js';

const endpoint = (e: Record<string, unknown> = {}) => ({
  id: 'bmc-1',
  url: 'https://10.0.7.21/redfish/v1/',
  username: 'admin',
  password: 'secret',
  ...e,
});
const load = (endpoints: unknown, env: Record<string, string> = {}) =>
  loadConfig(IngestRedfishConfigSchema, { env: { BUSWAY_ENDPOINTS: JSON.stringify(endpoints), ...env } });

describe('ingest-redfish config', () => {
  it('has no endpoints and no push listener by default, and fills every endpoint default', () => {
    const c = loadConfig(IngestRedfishConfigSchema, { env: {} });
    assert.deepEqual(
      [
        c.endpoints,
        c.pushPort,
        c.pushAddress,
        c.pushBaseUrl,
        c.pushAckTimeoutMs,
        c.maxBufferBytes,
        c.maxReportBytes,
      ],
      [[], 0, '0.0.0.0', undefined, 10_000, 4 * 2 ** 20, 4 * 2 ** 20],
    );
    const [e] = load([endpoint()]).endpoints;
    assert.deepEqual(e, {
      id: 'bmc-1',
      url: 'https://10.0.7.21',
      auth: 'session',
      username: 'admin',
      password: 'secret',
      mode: 'auto',
      insecureSkipVerify: false,
      reportDefinitions: [],
      pollIntervalMs: 10_000,
      pollChassis: 'auto',
      timeoutMs: 5000,
      maxBackoffMs: 60_000,
      sseIdleTimeoutMs: 120_000,
      units: {},
    });
  });

  it('fails fast naming the key: credentials, URL scheme, duplicate ids, push without a listener, a lone TLS file', () => {
    const cases: [unknown, Record<string, string>, RegExp][] = [
      [
        [endpoint({ password: undefined })],
        {},
        /endpoints\.0\.username \(env BUSWAY_ENDPOINTS\): auth session needs/,
      ],
      [[endpoint({ url: 'ftp://bmc' })], {}, /endpoints\.0\.url/],
      [[endpoint(), endpoint({ id: 'BMC-1' })], {}, /duplicate endpoint id 'BMC-1'/],
      [[endpoint({ mode: 'push' })], {}, /endpoints\.0\.mode .*needs pushPort/],
      [[], { BUSWAY_PUSH_TLS_CERT_FILE: '/x.pem' }, /pushTlsCertFile .*go together/],
      [[endpoint({ id: 'a.b' })], {}, /endpoints\.0\.id/],
    ];
    for (const [endpoints, env, message] of cases)
      assert.throws(
        () => load(endpoints, env),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    assert.throws(
      () => loadConfig(IngestRedfishConfigSchema, { env: { BUSWAY_ENDPOINTS: '[{' } }),
      /endpoints \(env BUSWAY_ENDPOINTS\): not a JSON array of endpoints/,
    );
  });

  it('accepts auth none without credentials and reads the push settings from the environment', () => {
    const c = load([endpoint({ auth: 'none', username: undefined, password: undefined, mode: 'push' })], {
      BUSWAY_PUSH_PORT: '8443',
      BUSWAY_PUSH_BASE_URL: 'https://busway.example:8443',
    });
    assert.equal(c.pushPort, 8443);
    assert.equal(c.endpoints[0]?.auth, 'none');
    assert.equal(c.pushBaseUrl, 'https://busway.example:8443');
  });
});
