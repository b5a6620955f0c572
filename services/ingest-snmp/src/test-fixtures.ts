import { createSocket, type Socket } from 'node:dgram';
import type { JetStreamManager } from '@nats-io/jetstream';
import snmp from 'net-snmp';
import { busway, Subjects } from '@busway/proto';
import { Hdr, readDeadLetters } from '@busway/runtime';

// Fixtures of the integration tests: net-snmp's agent serving a UPS and a PDU, trap senders, RAW and DLQ readers.

export const COMMUNITY = 'busway-ro';
export const TRAP_COMMUNITY = 'busway-traps';
export const USER = {
  name: 'busway',
  authProtocol: 'sha',
  authKey: 'auth-key-for-tests',
  privProtocol: 'aes',
  privKey: 'priv-key-for-tests',
} as const;
export const NET_SNMP_USER: snmp.User = {
  name: USER.name,
  level: snmp.SecurityLevel.authPriv,
  authProtocol: snmp.AuthProtocols.sha,
  authKey: USER.authKey,
  privProtocol: snmp.PrivProtocols.aes,
  privKey: USER.privKey,
};

/** UPS-MIB (RFC 1628) scalars and a PDU-like enterprise subtree, with what the agent serves there. */
export const OIDS = {
  upsModel: '1.3.6.1.2.1.33.1.1.2.0', // upsIdentModel, DisplayString
  batteryCharge: '1.3.6.1.2.1.33.1.2.4.0', // upsEstimatedChargeRemaining, %
  batteryVoltage: '1.3.6.1.2.1.33.1.2.5.0', // upsBatteryVoltage, 0.1 V DC
  batteryTemp: '1.3.6.1.2.1.33.1.2.7.0', // upsBatteryTemperature, degC
  pduCurrent: '1.3.6.1.4.1.99999.1.1.0', // tenths of amps, Gauge32
  pduEnergy: '1.3.6.1.4.1.99999.1.2.0', // Wh, Counter64
  pduStatus: '1.3.6.1.4.1.99999.1.3.0', // text
  notServed: '1.3.6.1.4.1.99999.1.9.0',
} as const;

const SCALARS: { name: keyof typeof OIDS; type: number; value: number | string | Buffer }[] = [
  { name: 'upsModel', type: snmp.ObjectType.OctetString, value: 'Smart-UPS 3000' },
  { name: 'batteryCharge', type: snmp.ObjectType.Integer, value: 97 },
  { name: 'batteryVoltage', type: snmp.ObjectType.Integer, value: 545 },
  { name: 'batteryTemp', type: snmp.ObjectType.Integer, value: 31 },
  { name: 'pduCurrent', type: snmp.ObjectType.Gauge32, value: 123 },
  { name: 'pduEnergy', type: snmp.ObjectType.Counter64, value: Buffer.from('0000000100000005', 'hex') },
  { name: 'pduStatus', type: snmp.ObjectType.OctetString, value: 'onBattery' },
];

export interface TestAgent {
  agent: snmp.Agent;
  port: number;
  /** GET requests that reached the PDU current (one per poll cycle of a target that has it). */
  seen: { pduCurrent: number };
}

/** Binds a UDP socket to port 0 and frees it: a port nothing listens on (for now). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Creates through net-snmp's dgram hook, to learn when (and whether) its socket is bound. */
function listening<T>(create: (dgramModule: snmp.DgramModule) => T): Promise<T> {
  const sockets: Socket[] = [];
  const made = create({
    createSocket: (type) => {
      const s = createSocket(type);
      sockets.push(s);
      return s;
    },
  });
  return Promise.all(
    sockets.map(
      (s) => new Promise<void>((resolve, reject) => s.once('listening', resolve).once('error', reject)),
    ),
  ).then(() => made);
}

/** net-snmp's agent on all loopback addresses, with the v2c community and the v3 user. */
export async function startAgent(): Promise<TestAgent> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeUdpPort();
    try {
      const agent = await listening((dgramModule) =>
        snmp.createAgent({ port, dgramModule }, () => undefined),
      );
      const auth = agent.getAuthorizer();
      auth.addCommunity(COMMUNITY);
      auth.addUser(NET_SNMP_USER);
      const seen = { pduCurrent: 0 };
      const mib = agent.getMib();
      for (const s of SCALARS) {
        mib.registerProvider({
          name: s.name,
          type: snmp.MibProviderType.Scalar,
          oid: OIDS[s.name].replace(/\.0$/, ''),
          scalarType: s.type,
          maxAccess: snmp.MaxAccess['read-only'],
          handler: (req) => {
            if (s.name === 'pduCurrent') seen.pduCurrent++;
            req.done();
          },
        });
        mib.setScalarValue(s.name, s.value);
      }
      return { agent, port, seen };
    } catch (err) {
      if (attempt >= 5 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}

export function closeAgent(a: TestAgent | undefined): Promise<void> {
  return new Promise((resolve) => (a ? a.agent.close(() => resolve()) : resolve()));
}

/** Sends one trap and closes the session once it is out. */
export function sendTrap(
  session: snmp.Session,
  trapOid: string,
  varbinds: snmp.OutgoingVarbind[],
  options: snmp.TrapOptions = {},
): Promise<void> {
  return new Promise((resolve, reject) =>
    session.trap(trapOid, varbinds, options, (err) => {
      session.close();
      if (err) reject(err);
      else resolve();
    }),
  );
}

export interface Stored {
  subject: string;
  id: string;
  samples: busway.v1.ISample[];
}

/** Every SampleBatch on RAW from one source, oldest first, with its message id. */
export async function batchesOf(jsm: JetStreamManager, source: string): Promise<Stored[]> {
  const subject = Subjects.rawSamples('snmp', source);
  const info = await jsm.streams.info('RAW');
  const out: Stored[] = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage('RAW', { seq }).catch(() => null);
    if (m?.subject !== subject) continue;
    out.push({ subject, id: m.header.get(Hdr.MsgId), samples: busway.v1.SampleBatch.decode(m.data).samples });
  }
  return out;
}

export async function countOf(jsm: JetStreamManager, source: string): Promise<number> {
  const subject = Subjects.rawSamples('snmp', source);
  const info = await jsm.streams.info('RAW', { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

export const deadLetters = readDeadLetters;

export const byName = (samples: busway.v1.ISample[]) =>
  new Map(samples.map((s) => [String(s.pointId).split(':').slice(2).join(':'), s]));
