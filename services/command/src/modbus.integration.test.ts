import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ServerTCP } from 'modbus-serial';
import { Redis } from 'ioredis';
import { busway, timeNsFromMs } from '@busway/proto';
import { ingestModbusModule } from '@busway/ingest-modbus';
import { normalizerModule } from '@busway/normalizer';
import { publishSiteModel } from '@busway/registry';
import { runWorker, type WorkerRuntime } from '@busway/runtime';
import { freePort, startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { CommandStore } from './command-store.js';
import { commandModule } from './index.js';
import { stateName } from './status.js';
import {
  commandFor,
  publishCommand,
  statesOf,
  statusesOf,
  waitForState,
  waitUntilSeen,
} from './test-support.js';

const HOST = '127.0.0.1';
const PATH = 'uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-1.';
const POINTS = [
  { name: 'supply-sp', table: 'holding', address: 0, type: 'float32', wordOrder: 'little', unit: 'degC' },
  { name: 'power-cap', table: 'holding', address: 2, type: 'uint16', scale: 0.1, unit: 'kW' },
  { name: 'stubborn-sp', table: 'holding', address: 3, type: 'int16', unit: 'degC' },
  { name: 'fan-sp', table: 'holding', address: 4, unit: '%' },
  { name: 'pump-run', table: 'coil', address: 0 },
  { name: 'return-temp', table: 'input', address: 0, scale: 0.1, unit: 'degC' },
];
const METRICS: Record<string, string> = {
  'supply-sp': 'temperature.coolant.supply.setpoint',
  'power-cap': 'power.cap',
  'stubborn-sp': 'temperature.coolant.return.setpoint',
  'fan-sp': 'speed.fan.setpoint',
  'pump-run': 'state.running',
  'return-temp': 'temperature.coolant.return',
  ghost: 'speed.fan', // in the registry, never polled: a readback that never has a value
};
const RULES = [
  { point: 'modbus:cdu-1:supply-sp', min: 18, max: 32, maxStep: 5, minIntervalMs: 0, tolerance: 0.05 },
  { point: 'modbus:cdu-1:power-cap', min: 0, max: 20_000, minIntervalMs: 0, tolerance: 50 },
  { point: 'modbus:cdu-1:stubborn-sp', min: 10, max: 40, minIntervalMs: 0, confirmTimeoutMs: 1500 },
  { point: 'modbus:cdu-1:fan-sp', min: 0, max: 100, minIntervalMs: 0, readback: 'modbus:cdu-1:ghost' },
  { point: 'modbus:cdu-1:pump-run', type: 'bool', minIntervalMs: 0 },
  { point: 'modbus:cdu-1:return-temp', min: 0, max: 100, minIntervalMs: 0 },
];

describe('Modbus write-back: the command worker against a modbus-serial TCP device, read back by ingest-modbus', () => {
  let nats: TestServer;
  let redisServer: TestServer;
  let server: ServerTCP;
  const workers: WorkerRuntime[] = [];
  const holding = new Map<number, number>([
    [0, 0x0000], // float32 22.0 = 0x41B00000, least significant word first
    [1, 0x41b0],
    [2, 100], // 10.0 kW in tenths
    [3, 25],
    [4, 40],
  ]);
  const coils = new Set<number>();
  const writes: string[] = [];
  let rt: WorkerRuntime;
  let port = 0;
  let commandEnv: Record<string, string> = {};

  before(async () => {
    [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
    port = await freePort();
    server = await new Promise<ServerTCP>((resolve, reject) => {
      const s = new ServerTCP(
        {
          getHoldingRegister: (addr: number) => holding.get(addr) ?? 0,
          getMultipleHoldingRegisters: (addr: number, n: number) =>
            Array.from({ length: n }, (_, i) => holding.get(addr + i) ?? 0),
          getInputRegister: () => 215,
          getMultipleInputRegisters: (_addr: number, n: number) => Array.from({ length: n }, () => 215),
          getCoil: (addr: number) => coils.has(addr),
          setRegister: (addr: number, value: number) => {
            writes.push(`holding ${addr}=${value}`);
            if (addr !== 3) holding.set(addr, value); // register 3 acknowledges writes and keeps its value
          },
          setCoil: (addr: number, value: boolean) => {
            writes.push(`coil ${addr}=${value}`);
            if (value) coils.add(addr);
            else coils.delete(addr);
          },
        },
        { host: HOST, port, unitID: 255 },
      );
      s.on('error', () => undefined);
      s.on('socketError', () => undefined);
      s.on('serverError', reject);
      s.on('initialized', () => resolve(s));
    });
    const redis = new Redis(redisServer.url);
    await publishSiteModel(redis, {
      site: 'ai1',
      assets: [{ id: 'cdu-1', class: 'cdu', hall: 'h1', row: 'r1', rack: 'plant-r1', feeds: [], cools: [] }],
      points: Object.entries(METRICS).map(([name, metric]) => ({
        pointId: `modbus:cdu-1:${name}`,
        asset: 'cdu-1',
        metric,
      })),
    });
    redis.disconnect();
    const devices = JSON.stringify([
      { id: 'cdu-1', host: HOST, port, pollIntervalMs: 200, timeoutMs: 1000, points: POINTS },
    ]);
    const common = {
      NATS_URL: nats.url,
      REDIS_URL: redisServer.url,
      BUSWAY_LOG_LEVEL: 'silent',
      BUSWAY_SITE: 'ai1',
    };
    for (const [mod, env] of [
      [normalizerModule, {}],
      [ingestModbusModule, { BUSWAY_DEVICES: devices }],
      [
        commandModule,
        {
          BUSWAY_RULES: JSON.stringify(RULES),
          BUSWAY_MODBUS_DEVICES: devices,
          BUSWAY_READBACK_SOURCE: 'norm',
        },
      ],
    ] as const) {
      const { rt: w } = await runWorker(mod as typeof commandModule, {
        env: { ...common, ...env },
        signals: false,
      });
      workers.push(w);
    }
    rt = workers.at(-1) as WorkerRuntime;
    commandEnv = {
      ...common,
      BUSWAY_RULES: JSON.stringify(RULES),
      BUSWAY_MODBUS_DEVICES: devices,
      BUSWAY_READBACK_SOURCE: 'norm',
    };
    // the polls reach the command worker's readback: then the setpoint is no longer blind
    await waitUntilSeen(rt.js, rt.jsm, `${PATH}temperature.coolant.supply.setpoint`, 31.9);
  });

  after(async () => {
    for (const w of workers.reverse()) await w.stop();
    await new Promise((r) => server?.close(r));
    await Promise.all([nats?.dispose(), redisServer?.dispose()]);
  });

  it("writes a float32 setpoint in the device's word order, and confirms it when the next poll reads it back", async () => {
    const cmd = commandFor(`${PATH}temperature.coolant.supply.setpoint`, 24.5);
    await publishCommand(rt.js, cmd);
    const statuses = await waitForState(rt.jsm, cmd.commandId as string, 'confirmed');
    assert.deepEqual(
      statuses.map((s) => s.state),
      [1, 3, 4],
      'accepted, sent, confirmed',
    );
    assert.deepEqual([holding.get(0), holding.get(1)], [0x0000, 0x41c4], '24.5 = 0x41C40000, low word first');
    const [accepted, sent, confirmed] = statuses;
    assert.equal(accepted?.pointId, 'modbus:cdu-1:supply-sp');
    assert.equal(sent?.address, `${HOST}:${port}/1/holding/0`);
    assert.equal(sent?.sourceValue, 24.5);
    assert.equal(confirmed?.observedValue, 24.5);
    assert.equal(confirmed?.readbackPointId, 'modbus:cdu-1:supply-sp');
  });

  it('converts and scales: a power cap of 12000 W goes to the device as 120 tenths of a kW', async () => {
    const cmd = commandFor(`${PATH}power.cap`, 12_000, { unit: 'W' });
    await publishCommand(rt.js, cmd);
    const statuses = await waitForState(rt.jsm, cmd.commandId as string, 'confirmed');
    assert.equal(holding.get(2), 120);
    assert.equal(statuses[1]?.sourceValue, 12);
    assert.equal(statuses[1]?.sourceUnit, 'kW');
    assert.equal(statuses[2]?.observedValue, 12_000);
  });

  it('switches a coil and confirms it', async () => {
    const cmd = commandFor(`${PATH}state.running`, true);
    await publishCommand(rt.js, cmd);
    await waitForState(rt.jsm, cmd.commandId as string, 'confirmed');
    assert.ok(coils.has(0));
    assert.ok(writes.includes('coil 0=true'));
  });

  it('refuses what must not reach the device (out of bounds, a step too large, a read-only input, a blind readback) and writes nothing', async () => {
    const before = writes.length;
    const cases: [string, number, string][] = [
      [`${PATH}temperature.coolant.supply.setpoint`, 45, 'out-of-bounds'],
      [`${PATH}temperature.coolant.supply.setpoint`, 31, 'step-too-large'],
      [`${PATH}temperature.coolant.return`, 20, 'not-deliverable'],
      [`${PATH}speed.fan.setpoint`, 50, 'blind'],
      [`${PATH}temperature.coolant.supply`, 20, 'not-writable'],
    ];
    for (const [path, value, code] of cases) {
      const cmd = commandFor(path, value);
      await publishCommand(rt.js, cmd);
      const [status, ...more] = await waitForState(rt.jsm, cmd.commandId as string, 'rejected');
      assert.equal(status?.code, code, `${path}=${value}: ${status?.reason}`);
      assert.ok((status?.reason ?? '').length > 15, status?.reason);
      assert.equal(more.length, 0, 'a rejection is the only status');
    }
    assert.equal(writes.length, before, 'nothing was written');
  });

  it('never delivers an expired command, and never sends a redelivered one twice', async () => {
    const before = writes.length;
    const now = Date.now();
    const stale = commandFor(`${PATH}temperature.coolant.supply.setpoint`, 23, {
      requestedTimeNs: timeNsFromMs(now - 20_000),
      expiresTimeNs: timeNsFromMs(now - 1),
    });
    await publishCommand(rt.js, stale);
    const [expired] = await waitForState(rt.jsm, stale.commandId as string, 'expired');
    assert.equal(expired?.code, 'expired');
    assert.equal(writes.length, before, 'the expired command wrote nothing');

    const cmd = commandFor(`${PATH}temperature.coolant.supply.setpoint`, 23);
    await publishCommand(rt.js, cmd);
    await waitForState(rt.jsm, cmd.commandId as string, 'confirmed');
    assert.equal(writes.length, before + 2, 'one FC 16 write: its two registers');
    // the same request again, under another message id: as if redelivered after JetStream's duplicate window
    await publishCommand(rt.js, cmd, `late-redelivery-${cmd.commandId}`);
    await publishCommand(rt.js, stale, `late-redelivery-${stale.commandId}`);
    await waitFor('both redeliveries consumed', async () => {
      const c = await rt.jsm.consumers.info('CONTROL', 'command');
      return c.num_pending === 0 && c.num_ack_pending === 0;
    });
    assert.equal(writes.length, before + 2, 'nothing written again');
    assert.deepEqual(await statesOf(rt.jsm, cmd.commandId as string), ['accepted', 'sent', 'confirmed']);
    assert.deepEqual(await statesOf(rt.jsm, stale.commandId as string), ['expired']);
  });

  it('fails a command whose readback never reaches the setpoint, with the last value read, at its deadline', async () => {
    const cmd = commandFor(`${PATH}temperature.coolant.return.setpoint`, 30);
    await publishCommand(rt.js, cmd);
    const statuses = await waitForState(rt.jsm, cmd.commandId as string, 'failed');
    assert.deepEqual(
      statuses.map((s) => s.state),
      [1, 3, 5],
    );
    assert.equal(statuses[2]?.code, 'not-confirmed');
    assert.equal(statuses[2]?.observedValue, 25, 'the device kept its own value');
    assert.match(statuses[2]?.reason ?? '', /did not reach 30/);
    assert.ok(writes.includes('holding 3=30'), 'it was written once; the device chose to keep 25');
    assert.equal((await statusesOf(rt.jsm, cmd.commandId as string)).length, 3);
  });

  it('resumes after a restart: a delivery cut short by a crash is never retried, a command sent meanwhile is judged on the last value and delivered', async () => {
    await rt.stop();
    workers.pop();
    const js = (workers[0] as WorkerRuntime).js; // the normalizer's connection: the command worker's is closed
    // the record a crash leaves when it struck between "delivery begins" and "sent"
    const store = await CommandStore.open(js, 'busway-commands', 3_600_000);
    const cut = commandFor(`${PATH}temperature.coolant.supply.setpoint`, 25);
    await store.create(cut.commandId as string, {
      command: cut,
      statuses: [
        {
          commandId: cut.commandId,
          state: busway.v1.CommandState.COMMAND_STATE_ACCEPTED,
          path: cut.path,
          timeNs: timeNsFromMs(Date.now()),
        },
      ],
      published: 0,
      delivering: true,
    });
    // a restarted worker has read nothing live yet: fan-out's last value in Redis tells it the current value
    const redis = new Redis(redisServer.url);
    await redis.hset(`busway:lv:v1:${PATH}power.cap`, {
      timeNs: (BigInt(Date.now()) * 1_000_000n).toString(),
      value: '12000',
      type: 'double',
      unit: 'W',
      quality: 'good',
      pointId: 'modbus:cdu-1:power-cap',
    });
    redis.disconnect();
    const meanwhile = commandFor(`${PATH}power.cap`, 11_000);
    await publishCommand(js, meanwhile); // stream CONTROL keeps it while no worker runs
    const before = writes.length;
    const { rt: restarted } = await runWorker(commandModule, { env: commandEnv, signals: false });
    workers.push(restarted);
    rt = restarted;
    const cutStatuses = await waitForState(rt.jsm, cut.commandId as string, 'failed');
    assert.deepEqual(
      cutStatuses.map((s) => [stateName(s.state), s.code]),
      [
        ['accepted', ''],
        ['failed', 'delivery-unknown'],
      ],
      'its accepted status is published from the record, then the unknown outcome',
    );
    await waitForState(rt.jsm, meanwhile.commandId as string, 'confirmed');
    assert.deepEqual(
      writes.slice(before),
      ['holding 2=110'],
      'only the command sent meanwhile reached the device',
    );
  });
});
