import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataType, SecurityPolicy } from 'node-opcua';
import { runWorker, type WorkerRuntime } from '@busway/runtime';
import { freePort, startNats, waitFor, type TestServer } from '@busway/testkit';
import { ingestOpcuaModule } from './index.js';
import {
  endpointOf,
  outcome,
  rawSamples,
  samplesOf,
  removePkiDirs,
  sleep,
  workerEnv,
} from './test-fixtures.js';
import { startPlant, type Plant } from './test-server.js';

const SECURE = { securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' };

describe('OPC UA bridge on a SignAndEncrypt / Basic256Sha256 endpoint with a user name', () => {
  let nats: TestServer;
  let plant: Plant;
  const workers: WorkerRuntime[] = [];

  const start = async (endpoint: Record<string, unknown>, env: Record<string, string> = {}) => {
    const environment = workerEnv(nats.url, [endpoint], env);
    const { rt } = await runWorker(ingestOpcuaModule, { env: environment, signals: false });
    workers.push(rt);
    return { rt, pkiDir: environment.BUSWAY_PKI_DIR };
  };

  before(async () => {
    nats = await startNats();
    plant = await startPlant(await freePort(), { secure: { user: 'busway', password: 's3cret' } });
  });

  after(async () => {
    for (const rt of workers) await rt.stop();
    await plant?.dispose();
    await nats?.dispose();
    removePkiDirs();
  });

  it('refuses the unknown server certificate until it is moved to trusted/, then reads encrypted', async () => {
    const { rt, pkiDir } = await start(
      endpointOf('secure', plant.url, { ...SECURE, user: 'busway', password: 's3cret' }),
    );
    const rejected = join(pkiDir, 'rejected');
    const [certificate] = await waitFor('the server certificate in rejected/', () =>
      existsSync(rejected) && readdirSync(rejected).length > 0 ? readdirSync(rejected) : undefined,
    );
    assert.ok(certificate);
    // the certificate is written before the failed connect is counted
    await waitFor('a failed connect counted', async () => (await outcome(rt, 'connect-failed')) >= 1);
    assert.equal((await rawSamples(rt)).length, 0, 'nothing read from an untrusted server');

    mkdirSync(join(pkiDir, 'trusted', 'certs'), { recursive: true });
    renameSync(join(rejected, certificate), join(pkiDir, 'trusted', 'certs', certificate));
    await waitFor(
      'samples over the secure channel',
      async () => (await samplesOf(rt, 'opcua:secure:mode')).length > 0,
      30_000,
    );
    plant.set('supplyTemp', DataType.Double, 35.5);
    await waitFor('a change', async () =>
      (await samplesOf(rt, 'opcua:secure:supply-temp')).some((s) => s.doubleValue === 35.5),
    );
    const [channel] = plant.channels();
    assert.deepEqual(channel, {
      securityMode: 'SignAndEncrypt',
      securityPolicy: SecurityPolicy.Basic256Sha256,
    });
  });

  it('keeps retrying, and reads nothing, with a wrong password', async () => {
    const { rt } = await start(
      endpointOf('intruder', plant.url, { ...SECURE, user: 'busway', password: 'guess' }),
      {
        BUSWAY_ACCEPT_UNKNOWN_CERTIFICATES: 'true',
      },
    );
    await waitFor('two refused sessions', async () => (await outcome(rt, 'connect-failed')) >= 2, 30_000);
    await sleep(300);
    assert.equal((await samplesOf(rt, 'opcua:intruder:mode')).length, 0);
  });
});
