import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataType } from 'node-opcua';
import { runWorker, type WorkerRuntime } from '@busway/runtime';
import { freePort, startNats, waitFor, type TestServer } from '@busway/testkit';
import { sourceTimeNs } from './convert.js';
import { ingestOpcuaModule } from './index.js';
import { endpointOf, outcome, samplesOf, removePkiDirs, sleep, workerEnv } from './test-fixtures.js';
import { startProxy, type NetworkCut } from './test-proxy.js';
import { startPlant, type Plant } from './test-server.js';

describe('OPC UA bridge across network cuts (a TCP proxy between it and the server)', () => {
  let nats: TestServer;
  let plant: Plant;
  let network: NetworkCut;
  let rt: WorkerRuntime;
  const workers: WorkerRuntime[] = [];
  const plants: Plant[] = [];

  /** Cuts the network for `ms`, changing the supply temperature meanwhile; resolves with the server's DataValue. */
  const outage = async (ms: number, value: number) => {
    const lost = await outcome(rt, 'connection-lost');
    network.cut();
    await waitFor('connection lost', async () => (await outcome(rt, 'connection-lost')) > lost);
    const dv = plant.set('supplyTemp', DataType.Double, value);
    await sleep(ms);
    network.restore();
    return dv;
  };
  const delivered = (value: number) =>
    waitFor(
      `the value ${value} set during the outage`,
      async () => (await samplesOf(rt, 'opcua:cdu-1:supply-temp')).find((s) => s.doubleValue === value),
      20_000,
    );

  before(async () => {
    nats = await startNats();
    // anonymous transfers over an unsecured channel: node-opcua's default refuses them, per the specification
    plant = await startPlant(await freePort(), { anonymousTransfer: true });
    network = await startProxy(plant.port);
    const url = `opc.tcp://127.0.0.1:${network.port}/UA/Busway`;
    ({ rt } = await runWorker(ingestOpcuaModule, {
      env: workerEnv(nats.url, [endpointOf('cdu-1', url, { sessionTimeoutMs: 2000 })]),
      signals: false,
    }));
    await waitFor('first samples', async () => (await samplesOf(rt, 'opcua:cdu-1:supply-temp')).length > 0);
  });

  after(async () => {
    for (const w of workers) await w.stop();
    for (const p of plants) await p.dispose();
    await rt?.stop();
    await network?.close();
    await plant?.dispose();
    await nats?.dispose();
    removePkiDirs();
  });

  it('reactivates its session after a short cut and delivers what changed meanwhile', async () => {
    const dv = await outage(500, 40.5);
    const s = await delivered(40.5);
    assert.equal(
      s.eventTimeNs?.toString(),
      sourceTimeNs(dv.sourceTimestamp, dv.sourcePicoseconds)?.toString(),
    );
    await waitFor('reactivated', async () => (await outcome(rt, 'session-reactivated')) === 1);
    assert.equal(await outcome(rt, 'subscription-transferred'), 0);
    assert.equal(await outcome(rt, 'subscription-recreated'), 0);
  });

  it('connects to a server that is down when the bridge starts, once it comes up', async () => {
    const port = await freePort();
    const { rt: late } = await runWorker(ingestOpcuaModule, {
      env: workerEnv(nats.url, [endpointOf('late', `opc.tcp://127.0.0.1:${port}/UA/Busway`)]),
      signals: false,
    });
    workers.push(late);
    await waitFor('failed attempts', async () => (await outcome(late, 'connect-failed')) >= 2);
    const second = await startPlant(port);
    plants.push(second);
    await waitFor('samples once it is up', async () => (await samplesOf(late, 'opcua:late:mode')).length > 0);
  });

  it('transfers its subscription to a new session once the server timed the old one out', async () => {
    const dv = await outage(4000, 41.5);
    const s = await delivered(41.5);
    assert.equal(
      s.eventTimeNs?.toString(),
      sourceTimeNs(dv.sourceTimestamp, dv.sourcePicoseconds)?.toString(),
    );
    await waitFor('transferred', async () => (await outcome(rt, 'subscription-transferred')) === 1);
    assert.equal(await outcome(rt, 'subscription-recreated'), 0);
    assert.equal(await outcome(rt, 'session-reactivated'), 1);
  });
});
