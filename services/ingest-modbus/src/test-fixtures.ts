import { createServer, type Server, type Socket } from 'node:net';
import type { JetStreamManager } from '@nats-io/jetstream';
import { ServerTCP } from 'modbus-serial';
import { busway, Subjects } from '@busway/proto';
import { Hdr } from '@busway/runtime';

// Fixtures of the integration tests: a Modbus TCP plant (modbus-serial's server), a hung device, RAW readers.

export const HOST = '127.0.0.1';

/** What the plant's unit 1 serves; addresses it does not list read as 0 up to 199. Unit 2 serves 0..9. */
const UNIT1_HOLDING = new Map<number, number>([
  [0, 0xffff], // int16 -1
  [1, 500], // uint16, scale 0.1, offset -10 -> 40
  [2, 0x41ac], // float32 21.5, most significant word first
  [3, 0x0000],
  [4, 0x4000], // float32 230.25 (0x43664000), least significant word first
  [5, 0x4366],
  [6, 0xfffe], // int32 -123456
  [7, 0x1dc0],
  [12, 0x4009], // float64 pi
  [13, 0x21fb],
  [14, 0x5444],
  [15, 0x2d18],
  [100, 1234],
]);
const UNIT1_INPUT = new Map<number, number>([
  [0, 235], // 23.5 degC at scale 0.1
  [1, 0x0001], // uint32 70000
  [2, 0x1170],
]);
const UNIT1_COILS = new Set([0, 3]);
const UNIT2_HOLDING = new Map<number, number>([
  [0, 7],
  [2, 0x7fc0], // float32 NaN: the sensor is not fitted
  [3, 0x0000],
]);
const SERVED = new Map([
  [1, 200],
  [2, 10],
]);

export const point = (name: string, table: string, address: number, extra: Record<string, unknown> = {}) => ({
  name,
  table,
  address,
  ...extra,
});

export const PLC_POINTS = [
  point('status-code', 'holding', 0, { type: 'int16' }),
  point('setpoint', 'holding', 1, { scale: 0.1, offset: -10, unit: 'degC' }),
  point('supply-temp', 'holding', 2, { type: 'float32', unit: 'degC' }),
  point('voltage', 'holding', 4, { type: 'float32', wordOrder: 'little', unit: 'V' }),
  point('energy-delta', 'holding', 6, { type: 'int32', unit: 'kWh' }),
  point('pi', 'holding', 12, { type: 'float64' }),
  point('alarm-word', 'holding', 100),
  point('return-temp', 'input', 0, { scale: 0.1, unit: 'degC' }),
  point('power', 'input', 1, { type: 'uint32', unit: 'W' }),
  point('pump-run', 'coil', 0),
  point('fan-run', 'coil', 1),
  point('valve-open', 'coil', 3),
  point('leak', 'discrete', 10),
];

class IllegalAddress extends Error {
  readonly modbusErrorCode = 2;
}

function register(table: Map<number, number>, unitID: number, addr: number): number {
  if (addr >= (SERVED.get(unitID) ?? 0)) throw new IllegalAddress(`no register ${addr} on unit ${unitID}`);
  return unitID === 1 || unitID === 2 ? (table.get(addr) ?? 0) : 0;
}

const holdingOf = (unitID: number) => (unitID === 1 ? UNIT1_HOLDING : UNIT2_HOLDING);
const inputOf = (unitID: number) => (unitID === 1 ? UNIT1_INPUT : new Map<number, number>());
const range = (addr: number, length: number) => Array.from({ length }, (_, i) => addr + i);

/** Requests a plant saw from unit 1: register reads by table, and bits read. */
export interface Seen {
  holding: number;
  input: number;
  coilBits: number;
  discreteBits: number;
}

export interface Plant {
  server: ServerTCP;
  seen: Seen;
}

/** A Modbus TCP plant serving two unit ids, counting unit 1's requests per table. */
export async function startPlant(port: number): Promise<Plant> {
  const seen: Seen = { holding: 0, input: 0, coilBits: 0, discreteBits: 0 };
  const vector = {
    getHoldingRegister: (addr: number, unitID: number) => {
      if (unitID === 1) seen.holding++;
      return register(holdingOf(unitID), unitID, addr);
    },
    getMultipleHoldingRegisters: (addr: number, length: number, unitID: number) => {
      if (unitID === 1) seen.holding++;
      return range(addr, length).map((a) => register(holdingOf(unitID), unitID, a));
    },
    getInputRegister: (addr: number, unitID: number) => {
      if (unitID === 1) seen.input++;
      return register(inputOf(unitID), unitID, addr);
    },
    getMultipleInputRegisters: (addr: number, length: number, unitID: number) => {
      if (unitID === 1) seen.input++;
      return range(addr, length).map((a) => register(inputOf(unitID), unitID, a));
    },
    getCoil: (addr: number, unitID: number) => {
      if (unitID === 1) seen.coilBits++;
      return unitID === 1 && UNIT1_COILS.has(addr);
    },
    getDiscreteInput: (addr: number, unitID: number) => {
      if (unitID === 1) seen.discreteBits++;
      return unitID === 1 && addr === 10;
    },
  };
  const server = await new Promise<ServerTCP>((resolve, reject) => {
    const s = new ServerTCP(vector, { host: HOST, port, unitID: 255 });
    s.on('error', () => undefined);
    s.on('socketError', () => undefined);
    s.on('serverError', reject);
    s.on('initialized', () => resolve(s));
  });
  return { server, seen };
}

export function closePlant(plant: Plant | undefined): Promise<unknown> {
  return new Promise((resolve) => (plant ? plant.server.close(resolve) : resolve(undefined)));
}

export async function closeMuteDevice(mute: MuteDevice | undefined): Promise<void> {
  for (const s of mute?.sockets ?? []) s.destroy();
  await new Promise((resolve) => (mute ? mute.server.close(resolve) : resolve(undefined)));
}

export interface MuteDevice {
  server: Server;
  sockets: Set<Socket>;
}

/** Accepts TCP connections and never answers: a hung device. */
export function startMuteDevice(port: number): Promise<MuteDevice> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => server.listen(port, HOST, () => resolve({ server, sockets })));
}

/** Every SampleBatch on one subject of RAW, oldest first, with its message id. */
export async function batchesOf(jsm: JetStreamManager, device: string) {
  const subject = Subjects.rawSamples('modbus', device);
  const info = await jsm.streams.info('RAW');
  const out: { id: string; samples: busway.v1.ISample[] }[] = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage('RAW', { seq }).catch(() => null);
    if (m?.subject !== subject) continue;
    out.push({ id: m.header.get(Hdr.MsgId), samples: busway.v1.SampleBatch.decode(m.data).samples });
  }
  return out;
}

export async function countOf(jsm: JetStreamManager, device: string): Promise<number> {
  const subject = Subjects.rawSamples('modbus', device);
  const info = await jsm.streams.info('RAW', { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

export const byName = (samples: busway.v1.ISample[]) =>
  new Map(samples.map((s) => [String(s.pointId).split(':').at(-1) ?? '', s]));
