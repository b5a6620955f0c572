import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { ConfigError, createLogger } from '@busway/runtime';
import { waitFor } from '@busway/testkit';
import { BacnetConnection } from './connection.js';
import { HOST, MALFORMED, sendDatagrams } from './test-device.js';
import { parseAddress } from './transport.js';

const log = createLogger('ingest-bacnet-test', 'silent');

describe('the BACnet/IP socket', () => {
  it('binds a free port when asked for port 0', async () => {
    const conn = await BacnetConnection.open({ port: 0, bindAddress: '127.0.0.1', apduTimeoutMs: 1000 }, log);
    try {
      assert.ok(conn.localPort > 0 && conn.localPort !== 47808, String(conn.localPort));
    } finally {
      conn.close();
    }
  });

  it('fails at startup, naming the port, when another socket has it', async () => {
    const taken = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve));
    const { port } = taken.address();
    try {
      await assert.rejects(
        BacnetConnection.open({ port, bindAddress: '127.0.0.1', apduTimeoutMs: 1000 }, log),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message.includes(`127.0.0.1:${port}`) &&
          /EADDRINUSE/.test(err.message),
      );
    } finally {
      taken.close();
    }
  });

  it('turns a datagram the BACnet stack throws on into a counted event, not an uncaught exception', async () => {
    const conn = await BacnetConnection.open({ port: 0, bindAddress: HOST, apduTimeoutMs: 1000 }, log);
    const seen: string[] = [];
    conn.onMalformed((err, from) => seen.push(`${from} ${(err as Error).name}`));
    try {
      await sendDatagrams(conn.localPort, MALFORMED);
      await waitFor('every malformed datagram', () => seen.length === MALFORMED.length, 5000);
      assert.ok(
        seen.every((s) => /^127\.0\.0\.1:\d+ RangeError$/.test(s)),
        seen.join(),
      );
    } finally {
      conn.close();
    }
  });

  it('names a peer without a port by the BACnet/IP port', () => {
    assert.deepEqual(parseAddress('10.0.0.5'), { host: '10.0.0.5', port: 47808 });
    assert.deepEqual(parseAddress('10.0.0.5:47809'), { host: '10.0.0.5', port: 47809 });
  });
});
