import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataType, StatusCodes, type DataValue } from 'node-opcua';
import { busway } from '@busway/proto';
import { runWorker, type WorkerRuntime } from '@busway/runtime';
import { freePort, startNats, waitFor, type TestServer } from '@busway/testkit';
import { sourceTimeNs } from './convert.js';
import { ingestOpcuaModule } from './index.js';
import {
  deadLetters,
  endpointOf,
  outcome,
  rawSamples,
  sampleCount,
  samplesOf,
  removePkiDirs,
  sleep,
  workerEnv,
} from './test-fixtures.js';
import { NODE, startPlant, type Plant } from './test-server.js';

const P = (name: string) => `opcua:cdu-1:${name}`;

describe('OPC UA bridge against a real node-opcua server and nats-server', () => {
  let nats: TestServer;
  let plant: Plant;
  let rt: WorkerRuntime;

  /** The sample of a point with this value, once it is on RAW. */
  const sampleWith = (name: string, match: (s: busway.v1.ISample) => boolean) =>
    waitFor(`a ${name} sample`, async () => (await samplesOf(rt, P(name))).find(match), 15_000, 50);
  const expectedTimeNs = (dv: DataValue) =>
    sourceTimeNs(dv.sourceTimestamp, dv.sourcePicoseconds)?.toString();

  before(async () => {
    nats = await startNats();
    plant = await startPlant(await freePort());
    ({ rt } = await runWorker(ingestOpcuaModule, {
      env: workerEnv(nats.url, [endpointOf('cdu-1', plant.url)]),
      signals: false,
    }));
  });

  after(async () => {
    await rt?.stop();
    await plant?.dispose();
    await nats?.dispose();
    removePkiDirs();
  });

  it('delivers the initial value of every number, boolean and string node, one batch per publish response', async () => {
    const names = ['supply-temp', 'flow', 'level', 'pressure', 'pump-starts', 'pump-running', 'mode'];
    const samples = await waitFor('initial values', async () => {
      const all = await rawSamples(rt);
      return names.every((n) => all.some((s) => s.pointId === P(n))) ? all : undefined;
    });
    const first = new Map(samples.map((s) => [s.pointId, s]));
    assert.equal(first.get(P('supply-temp'))?.doubleValue, 30);
    assert.equal(first.get(P('pump-starts'))?.intValue?.toString(), '7');
    assert.equal(first.get(P('pump-running'))?.boolValue, false);
    assert.equal(first.get(P('mode'))?.stringValue, 'auto');
    const info = await rt.jsm.streams.info('RAW');
    assert.ok(info.state.messages < samples.length, 'several samples share a batch');
    const m = await rt.jsm.streams.getMessage('RAW', { seq: info.state.first_seq });
    assert.equal(m?.subject, 'raw.v1.samples.opcua.cdu-1');
    assert.equal(m?.header.get('ce-source'), '/opcua/cdu-1');
    assert.match(m?.header.get('Nats-Msg-Id') ?? '', /^opcua:cdu-1:/);
  });

  it('keeps values, units (EngineeringUnits first), source timestamps to the nanosecond and qualities', async () => {
    const temp = plant.set('supplyTemp', DataType.Double, 31.5);
    const starts = plant.set('pumpStarts', DataType.Int32, 8, StatusCodes.BadSensorFailure);
    const running = plant.set('pumpRunning', DataType.Boolean, true);
    const mode = plant.set('mode', DataType.String, 'cooling');
    const pressure = plant.set('pressure', DataType.Double, 251.5, StatusCodes.UncertainLastUsableValue);

    const t = await sampleWith('supply-temp', (s) => s.doubleValue === 31.5);
    assert.equal(t.unit, '°C', "the node's EUInformation wins over the configured degC");
    assert.equal(t.eventTimeNs?.toString(), expectedTimeNs(temp));
    assert.notEqual(t.eventTimeNs?.toString().slice(-6), '000000', 'sub-millisecond digits kept');
    assert.equal(t.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_DEVICE);
    assert.equal(t.quality, busway.v1.Quality.QUALITY_GOOD);
    assert.equal(t.sequence?.toString(), String(temp.sourceTimestamp?.getTime()));
    assert.deepEqual(
      { ...t.source },
      { protocol: 'opcua', address: `${plant.url}#${NODE.supplyTemp}`, sourceId: 'cdu-1' },
    );
    assert.ok(t.ingestTimeNs && t.eventTimeNs && t.ingestTimeNs.greaterThanOrEqual(t.eventTimeNs));

    const s = await sampleWith('pump-starts', (x) => x.intValue?.toString() === '8');
    assert.equal(s.quality, busway.v1.Quality.QUALITY_BAD);
    assert.deepEqual(s.flags, ['opcua-status:BadSensorFailure']);
    assert.equal(s.unit, '{count}', 'no EngineeringUnits: the configured unit');
    assert.equal(s.eventTimeNs?.toString(), expectedTimeNs(starts));

    const r = await sampleWith('pump-running', (x) => x.boolValue === true);
    assert.equal(r.eventTimeNs?.toString(), expectedTimeNs(running));
    const md = await sampleWith('mode', (x) => x.stringValue === 'cooling');
    assert.equal(md.eventTimeNs?.toString(), expectedTimeNs(mode));
    const p = await sampleWith('pressure', (x) => x.doubleValue === 251.5);
    assert.equal(p.quality, busway.v1.Quality.QUALITY_UNCERTAIN);
    assert.equal(p.unit, 'kPa');
    assert.equal(p.eventTimeNs?.toString(), expectedTimeNs(pressure));

    const flow = (await samplesOf(rt, P('flow')))[0];
    assert.equal(flow?.unit, 'L2', 'EUInformation without display name: the UNECE code of its unitId');
    assert.equal((await samplesOf(rt, P('level')))[0]?.unit, '%');
  });

  it('lets the server suppress changes inside an absolute or percent deadband', async () => {
    plant.set('flow', DataType.Double, 103); // within 5 of 100
    plant.set('level', DataType.Double, 65); // within 10 % of the 0..200 range (20) of 50
    await sleep(600);
    plant.set('flow', DataType.Double, 110);
    plant.set('level', DataType.Double, 75);
    await sampleWith('flow', (s) => s.doubleValue === 110);
    await sampleWith('level', (s) => s.doubleValue === 75);
    await sleep(300);
    assert.deepEqual(
      (await samplesOf(rt, P('flow'))).map((s) => s.doubleValue),
      [100, 110],
    );
    assert.deepEqual(
      (await samplesOf(rt, P('level'))).map((s) => s.doubleValue),
      [50, 75],
    );
  });

  it('dead-letters a ByteString once with the reason, then only counts it while it stays one', async () => {
    const [dlq] = await waitFor('a dead letter', async () => {
      const d = await deadLetters(rt);
      return d.length > 0 ? d : undefined;
    });
    assert.equal(dlq?.code, 'contract-violation');
    assert.match(dlq?.reason ?? '', /opcua:cdu-1:firmware: a ByteString is not a number, boolean or string/);
    assert.equal(dlq?.nodeId, NODE.firmware);
    assert.equal(dlq?.payload.value, 'base64:3q2+7w==');
    plant.set('firmware', DataType.ByteString, Buffer.from('v2'));
    plant.set('supplyTemp', DataType.Double, 32.5); // a marker: once it is stored, so is the ByteString's notification
    await sampleWith('supply-temp', (s) => s.doubleValue === 32.5);
    await waitFor('the second rejection counted', async () => (await sampleCount(rt, 'rejected')) >= 2);
    assert.equal((await deadLetters(rt)).length, 1);
    assert.equal(
      await rt.metrics.value('busway_dead_letters_total', { stage: 'ingest', reason: 'contract-violation' }),
      1,
    );
    assert.equal((await samplesOf(rt, P('firmware'))).length, 0);
  });

  it('resumes after the server restarts, on a recreated subscription', async () => {
    await plant.stop();
    await waitFor('connection lost', async () => (await outcome(rt, 'connection-lost')) >= 1);
    await sleep(500);
    await plant.restart();
    await waitFor(
      'session repaired',
      async () => (await outcome(rt, 'subscription-recreated')) === 1,
      30_000,
    );
    const again = plant.set('supplyTemp', DataType.Double, 29.25);
    const s = await sampleWith('supply-temp', (x) => x.doubleValue === 29.25);
    assert.equal(s.eventTimeNs?.toString(), expectedTimeNs(again));
    assert.equal(await outcome(rt, 'session-reactivated'), 0);
    // every value read was delivered or rejected: none is lost on the way
    await waitFor('every value read delivered or rejected', async () => {
      const [received = 0, out = 0, rejected = 0] = await Promise.all(
        ['in', 'out', 'rejected'].map((d) => sampleCount(rt, d)),
      );
      return received > 0 && received === out + rejected;
    });
  });
});
