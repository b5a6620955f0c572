import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { newClient, type UPayload } from 'sparkplug-client';
import { ingestSparkplugModule, sparkplugDecodeModule } from '@busway/ingest-sparkplug';
import { normalizerModule } from '@busway/normalizer';
import { publishSiteModel } from '@busway/registry';
import { runWorker, type WorkerRuntime } from '@busway/runtime';
import { startMosquitto, startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { commandModule } from './index.js';
import { commandFor, publishCommand, statesOf, waitForState, waitUntilSeen } from './test-support.js';

type TahuClient = ReturnType<typeof newClient>;
type Metric = NonNullable<UPayload['metrics']>[number];

const PATH = 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-1.';
const degF = { engUnit: { type: 'String', value: 'degF' } };
const kW = { engUnit: { type: 'String', value: 'kW' } };
const POINTS: [string, string][] = [
  ['sparkplug:tahu/edge1/cdu1:Setpoints/Supply', 'temperature.coolant.supply.setpoint'],
  ['sparkplug:tahu/edge1/cdu1:Pump/Run', 'state.running'],
  ['sparkplug:tahu/edge1/cdu1:Setpoints/Ghost', 'temperature.coolant.return.setpoint'],
  ['sparkplug:tahu/edge1:Power/Cap', 'power.cap'],
];
const RULES = [
  { point: POINTS[0]?.[0], min: 15, max: 35, maxStep: 8, minIntervalMs: 0, tolerance: 0.05 },
  { point: POINTS[1]?.[0], type: 'bool', minIntervalMs: 0 },
  { point: POINTS[2]?.[0], min: 15, max: 35, minIntervalMs: 0, readback: POINTS[0]?.[0] },
  { point: POINTS[3]?.[0], min: 0, max: 50_000, minIntervalMs: 0, tolerance: 1 },
];

describe('Sparkplug write-back: NCMD/DCMD to an Eclipse Tahu edge node (sparkplug-client), read back from its data', () => {
  let nats: TestServer;
  let redisServer: TestServer;
  let broker: TestServer;
  let tahu: TahuClient;
  const workers: WorkerRuntime[] = [];
  let rt: WorkerRuntime;
  /** The edge's state by metric name, and every command metric it received, with the topic type. */
  const device = new Map<string, { type: string; value: unknown; alias?: number }>([
    ['Setpoints/Supply', { type: 'Float', value: 71.6, alias: 7 }],
    ['Pump/Run', { type: 'Boolean', value: false }],
  ]);
  const node = new Map<string, { type: string; value: unknown; alias?: number }>([
    ['Power/Cap', { type: 'Int32', value: 10, alias: 1 }],
  ]);
  const received: { kind: 'ncmd' | 'dcmd'; metric: Metric }[] = [];

  const metricsOf = (
    m: Map<string, { type: string; value: unknown; alias?: number }>,
    props: Record<string, object>,
  ) =>
    [...m].map(([name, d]) => ({
      name,
      type: d.type,
      value: d.value,
      alias: d.alias,
      properties: props[name],
    })) as Metric[];
  /** Applies a command metric to the edge's state and reports it back in data, by alias as edges do. */
  const apply = (state: typeof device, m: Metric): Metric | undefined => {
    const alias = m.alias == null ? undefined : Number(String(m.alias));
    const entry = [...state].find(([name, d]) => (alias !== undefined ? d.alias === alias : name === m.name));
    if (!entry) return undefined;
    entry[1].value = m.value;
    return {
      ...(entry[1].alias !== undefined ? { alias: entry[1].alias } : { name: entry[0] }),
      type: entry[1].type,
      value: m.value,
    } as Metric;
  };

  before(async () => {
    [nats, redisServer, broker] = await Promise.all([startNats(), startRedis(), startMosquitto()]);
    const redis = new Redis(redisServer.url);
    await publishSiteModel(redis, {
      site: 'ai1',
      assets: [{ id: 'cdu-1', class: 'cdu', hall: 'h1', row: 'r1', rack: 'plant-r1', feeds: [], cools: [] }],
      points: POINTS.map(([pointId, metric]) => ({ pointId, asset: 'cdu-1', metric })),
    });
    redis.disconnect();
    const common = {
      NATS_URL: nats.url,
      REDIS_URL: redisServer.url,
      MQTT_URL: broker.url,
      BUSWAY_LOG_LEVEL: 'silent',
      BUSWAY_SITE: 'ai1',
    };
    for (const [mod, env] of [
      [normalizerModule, {}],
      [ingestSparkplugModule, { BUSWAY_MQTT_CLIENT_ID: `sp-bridge-${process.pid}` }],
      [sparkplugDecodeModule, { BUSWAY_MQTT_CLIENT_ID: `sp-decode-${process.pid}` }],
      [commandModule, { BUSWAY_RULES: JSON.stringify(RULES), BUSWAY_READBACK_SOURCE: 'norm' }],
    ] as const) {
      const { rt: w } = await runWorker(mod as typeof commandModule, {
        env: { ...common, ...env },
        signals: false,
      });
      workers.push(w);
    }
    rt = workers.at(-1) as WorkerRuntime;
    tahu = newClient({
      serverUrl: broker.url,
      username: '',
      password: '',
      groupId: 'tahu',
      edgeNode: 'edge1',
      clientId: `tahu-edge-${process.pid}`,
      version: 'spBv1.0',
      publishDeath: true,
    });
    const births = () => {
      tahu.publishNodeBirth({ timestamp: Date.now(), metrics: metricsOf(node, { 'Power/Cap': kW }) });
      tahu.publishDeviceBirth('cdu1', {
        timestamp: Date.now(),
        metrics: metricsOf(device, { 'Setpoints/Supply': degF }),
      });
    };
    tahu.on('birth', births);
    tahu.on('ncmd', (p) => {
      for (const m of p.metrics ?? []) {
        if (m.name === 'Node Control/Rebirth') {
          births();
          continue;
        }
        received.push({ kind: 'ncmd', metric: m });
        const data = apply(node, m);
        if (data) tahu.publishNodeData({ timestamp: Date.now(), metrics: [data] });
      }
    });
    tahu.on('dcmd', (deviceId, p) => {
      for (const m of p.metrics ?? []) {
        received.push({ kind: 'dcmd', metric: m });
        const data = apply(device, m);
        if (data && deviceId === 'cdu1')
          tahu.publishDeviceData('cdu1', { timestamp: Date.now(), metrics: [data] });
      }
    });
    // the births reach the bridge's KV and the normalized values reach the command worker's readback
    await waitUntilSeen(rt.js, rt.jsm, `${PATH}temperature.coolant.supply.setpoint`, 34);
  });

  after(async () => {
    tahu?.stop();
    for (const w of workers.reverse()) await w.stop();
    await Promise.all([nats?.dispose(), redisServer?.dispose(), broker?.dispose()]);
  });

  it('sends a DCMD with the alias and datatype of the birth, in its engineering unit, and confirms it from the DDATA', async () => {
    const cmd = commandFor(`${PATH}temperature.coolant.supply.setpoint`, 24.5);
    await publishCommand(rt.js, cmd);
    const statuses = await waitForState(rt.jsm, cmd.commandId as string, 'confirmed');
    assert.deepEqual(await statesOf(rt.jsm, cmd.commandId as string), ['accepted', 'sent', 'confirmed']);
    const dcmd = received.filter((r) => r.kind === 'dcmd');
    assert.equal(dcmd.length, 1);
    const m = dcmd[0]?.metric;
    assert.equal(m?.name, undefined, 'an aliased metric is named by its alias alone (Sparkplug 3.0)');
    assert.equal(Number(String(m?.alias)), 7);
    assert.equal(m?.type, 'Float');
    assert.equal(m?.value, Math.fround(76.1), '24.5 Cel is 76.1 degF, as a Float');
    const sent = statuses[1];
    assert.equal(sent?.address, 'spBv1.0/tahu/DCMD/edge1/cdu1');
    assert.equal(sent?.sourceUnit, 'degF');
    assert.ok(
      Math.abs((statuses[2]?.observedValue ?? 0) - 24.5) < 1e-5,
      `read back ${statuses[2]?.observedValue}`,
    );
  });

  it('sends a node metric as an NCMD and a Boolean by name, each confirmed', async () => {
    const cap = commandFor(`${PATH}power.cap`, 12_000);
    const run = commandFor(`${PATH}state.running`, true);
    await publishCommand(rt.js, cap);
    await publishCommand(rt.js, run);
    await waitForState(rt.jsm, cap.commandId as string, 'confirmed');
    await waitForState(rt.jsm, run.commandId as string, 'confirmed');
    const ncmd = received.filter((r) => r.kind === 'ncmd').map((r) => r.metric);
    assert.deepEqual(
      ncmd.map((m) => [Number(String(m.alias)), m.type, m.value]),
      [[1, 'Int32', 12]],
      '12000 W is 12 kW',
    );
    const pump = received.filter((r) => r.kind === 'dcmd').at(-1)?.metric;
    assert.deepEqual([pump?.name, pump?.type, pump?.value], ['Pump/Run', 'Boolean', true]);
  });

  it('refuses a metric the birth does not declare, and sends a redelivered command once', async () => {
    const before = received.length;
    const ghost = commandFor(`${PATH}temperature.coolant.return.setpoint`, 20);
    await publishCommand(rt.js, ghost);
    const [rejected] = await waitForState(rt.jsm, ghost.commandId as string, 'rejected');
    assert.equal(rejected?.code, 'not-deliverable');
    assert.match(rejected?.reason ?? '', /declares no metric 'Setpoints\/Ghost'/);

    const cmd = commandFor(`${PATH}temperature.coolant.supply.setpoint`, 23);
    await publishCommand(rt.js, cmd);
    await waitForState(rt.jsm, cmd.commandId as string, 'confirmed');
    await publishCommand(rt.js, cmd, `redelivered-${cmd.commandId}`);
    await waitFor('the redelivery consumed and acknowledged', async () => {
      const info = await rt.jsm.consumers.info('CONTROL', 'command');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
    await new Promise((r) => setTimeout(r, 300)); // a second DCMD would have arrived by now
    assert.equal(
      received.length,
      before + 1,
      'one DCMD for the command, none for the ghost or the redelivery',
    );
    assert.deepEqual(await statesOf(rt.jsm, cmd.commandId as string), ['accepted', 'sent', 'confirmed']);
  });
});
