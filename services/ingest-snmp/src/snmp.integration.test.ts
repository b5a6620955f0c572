import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import snmp from 'net-snmp';
import { busway, msFromTimeNs } from '@busway/proto';
import { Hdr, runWorker, type WorkerRuntime } from '@busway/runtime';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import { ingestSnmpModule } from './index.js';
import {
  batchesOf,
  byName,
  closeAgent,
  COMMUNITY,
  countOf,
  deadLetters,
  freeUdpPort,
  NET_SNMP_USER,
  OIDS,
  sendTrap,
  startAgent,
  TRAP_COMMUNITY,
  USER,
  type Stored,
  type TestAgent,
} from './test-fixtures.js';

const { QUALITY_GOOD, QUALITY_BAD } = busway.v1.Quality;
const ON_BATTERY = '1.3.6.1.4.1.318.0.5';
const BREAKER_TEXT = '1.3.6.1.4.1.99999.2.1.0';
const isTrap = (b: Stored) => b.samples.some((s) => s.flags?.includes('trap'));

describe('SNMP bridge against net-snmp agent, net-snmp trap senders and a real nats-server', () => {
  let nats: TestServer;
  let agent: TestAgent;
  let rt: WorkerRuntime;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let trapPort: number;
  const outcome = (name: string) =>
    rt.metrics.value('busway_messages_total', { stage: 'ingest', outcome: name });

  before(async () => {
    nats = await startNats();
    agent = await startAgent();
    trapPort = await freeUdpPort();
    const deadPort = await freeUdpPort();
    const fast = { pollIntervalMs: 100, timeoutMs: 500 };
    const targets = [
      {
        id: 'pdu-1',
        host: '127.0.0.1',
        port: agent.port,
        version: 'v2c',
        community: COMMUNITY,
        ...fast,
        points: [
          { name: 'current', oid: OIDS.pduCurrent, scale: 0.1, unit: 'A' },
          { name: 'energy', oid: OIDS.pduEnergy, unit: 'Wh' },
          { name: 'status', oid: OIDS.pduStatus },
        ],
      },
      {
        id: 'ups-1',
        host: '127.0.0.2',
        port: agent.port,
        version: 'v3',
        user: USER,
        ...fast,
        points: [
          { name: 'model', oid: OIDS.upsModel },
          { name: 'charge', oid: OIDS.batteryCharge, unit: '%' },
          { name: 'battery-voltage', oid: OIDS.batteryVoltage, scale: 0.1, unit: 'V' },
          { name: 'battery-temp', oid: OIDS.batteryTemp, unit: 'degC' },
          { name: 'state', oid: OIDS.pduStatus, type: 'gauge' },
          { name: 'missing', oid: OIDS.notServed },
        ],
      },
      {
        id: 'dead',
        host: '127.0.0.3',
        port: deadPort,
        pollIntervalMs: 100,
        timeoutMs: 100,
        retries: 0,
        maxBackoffMs: 800,
        points: [{ name: 'current', oid: OIDS.pduCurrent }],
      },
    ];
    ({ rt } = await runWorker(ingestSnmpModule, {
      env: {
        NATS_URL: nats.url,
        BUSWAY_LOG_LEVEL: 'silent',
        BUSWAY_TARGETS: JSON.stringify(targets),
        BUSWAY_MAX_OIDS_PER_REQUEST: '4',
        BUSWAY_TRAP_PORT: String(trapPort),
        BUSWAY_TRAP_COMMUNITY: TRAP_COMMUNITY,
        BUSWAY_TRAP_USERS: JSON.stringify([USER]),
      },
      signals: false,
    }));
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
  });

  after(async () => {
    await rt?.stop();
    await nc?.close();
    await closeAgent(agent);
    await nats?.dispose();
  });

  it('polls a v2c target: one batch per cycle, MIB scaling, units, source addresses, message ids', async () => {
    await waitFor('pdu-1 polled', async () => (await countOf(jsm, 'pdu-1')) >= 3, 15_000, 50);
    const last = (await batchesOf(jsm, 'pdu-1')).filter((b) => !isTrap(b)).at(-1);
    assert.ok(last);
    const s = byName(last.samples);
    assert.equal(s.size, 3);
    for (const sample of last.samples) {
      assert.equal(sample.quality, QUALITY_GOOD, `${sample.pointId} is good`);
      assert.equal(sample.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_INGEST);
      assert.equal(msFromTimeNs(sample.eventTimeNs), Number(sample.sequence?.toString()));
      assert.deepEqual([sample.source?.protocol, sample.source?.sourceId], ['snmp', 'pdu-1']);
    }
    assert.equal(last.id, `snmp:pdu-1@${String(last.samples[0]?.sequence)}`);
    assert.deepEqual([s.get('current')?.doubleValue, s.get('current')?.unit], [12.3, 'A']);
    assert.equal(s.get('current')?.pointId, 'snmp:pdu-1:current');
    assert.equal(s.get('current')?.source?.address, `127.0.0.1:${agent.port}/${OIDS.pduCurrent}`);
    assert.deepEqual([s.get('energy')?.intValue?.toString(), s.get('energy')?.unit], ['4294967301', 'Wh']);
    assert.equal(s.get('status')?.stringValue, 'onBattery');
  });

  it('polls a v3 authPriv target; a wrong varbind type and a missing OID are QUALITY_BAD, dead-lettered once', async () => {
    await waitFor('ups-1 polled 5 times', async () => (await countOf(jsm, 'ups-1')) >= 5, 15_000, 50);
    for (const batch of (await batchesOf(jsm, 'ups-1')).filter((b) => !isTrap(b))) {
      const s = byName(batch.samples);
      assert.equal(s.get('model')?.stringValue, 'Smart-UPS 3000');
      assert.deepEqual([s.get('charge')?.intValue?.toNumber(), s.get('charge')?.unit], [97, '%']);
      assert.deepEqual([s.get('battery-voltage')?.doubleValue, s.get('battery-voltage')?.unit], [54.5, 'V']);
      assert.deepEqual(
        [s.get('battery-temp')?.intValue?.toNumber(), s.get('battery-temp')?.unit],
        [31, 'degC'],
      );
      assert.deepEqual([s.get('state')?.quality, s.get('state')?.flags], [QUALITY_BAD, ['decode-error']]);
      assert.deepEqual(
        [s.get('missing')?.quality, s.get('missing')?.flags],
        [QUALITY_BAD, ['no-such-object']],
      );
      assert.equal(s.get('missing')?.doubleValue ?? s.get('missing')?.intValue ?? null, null);
    }
    const letters = (await deadLetters(jsm)).filter((l) => l.origin.startsWith('snmp:127.0.0.2:'));
    assert.equal(letters.length, 2, `one dead letter per fault, not per cycle: ${JSON.stringify(letters)}`);
    const [missing, wrongType] = [...letters].sort((a, b) => a.code.localeCompare(b.code));
    assert.equal(wrongType?.code, 'decode-error');
    assert.equal(wrongType?.origin, `snmp:127.0.0.2:${agent.port}/${OIDS.pduStatus}`);
    assert.match(wrongType?.reason ?? '', /OctetString 'onBattery' is not a number/);
    const body = JSON.parse(new TextDecoder().decode(wrongType?.data)) as Record<string, unknown>;
    assert.deepEqual(body.varbind, {
      oid: OIDS.pduStatus,
      type: 'OctetString',
      value: Buffer.from('onBattery').toString('hex'),
    });
    assert.equal(missing?.code, 'contract-violation');
    assert.match(missing?.reason ?? '', /no-such-object/);
    assert.equal(
      await rt.metrics.value('busway_dead_letters_total', { stage: 'ingest', reason: 'decode-error' }),
      1,
    );
  });

  it('keeps the raw reads of each cycle, as the device answered them, on the AUDIT stream', async () => {
    const m = await waitFor('an AUDIT copy', () =>
      jsm.streams.getMessage('AUDIT', { last_by_subj: 'audit.v1.snmp.pdu-1' }).catch(() => undefined),
    );
    assert.equal(m.header.get(Hdr.Type), 'busway.v1.Original');
    const reads = JSON.parse(new TextDecoder().decode(m.data)) as unknown[];
    const first = reads[0] as Record<string, unknown>;
    assert.ok(
      reads.length > 0 && Array.isArray(first) && typeof (first[0] as { oid?: unknown }).oid === 'string',
      JSON.stringify(reads).slice(0, 200),
    );
  });

  it('backs off a target that does not answer while the others keep their interval', async () => {
    await waitFor('pdu-1 polled 30 times', async () => (await countOf(jsm, 'pdu-1')) >= 30, 30_000, 100);
    const good = await countOf(jsm, 'pdu-1');
    const dead = await batchesOf(jsm, 'dead');
    // same interval: without backoff, or with loops that wait for each other, these would be about equal
    assert.ok(dead.length >= 1 && dead.length < good / 2, `dead target: ${dead.length} cycles vs ${good}`);
    for (const sample of dead.flatMap((b) => b.samples)) {
      assert.deepEqual([sample.quality, sample.flags], [QUALITY_BAD, ['read-failed']]);
    }
    assert.ok((await outcome('read-failed')) >= 2, 'read-failed counted');
  });

  it('receives v2c, v3 and v1 traps as samples of their target or agent; dead-letters an undecodable one', async () => {
    await sendTrap(
      snmp.createSession('127.0.0.1', TRAP_COMMUNITY, { version: snmp.Version2c, trapPort }),
      ON_BATTERY,
      [
        { oid: OIDS.pduCurrent, type: snmp.ObjectType.Gauge32, value: 150 },
        { oid: BREAKER_TEXT, type: snmp.ObjectType.OctetString, value: 'breaker B2 tripped' },
      ],
      { upTime: 4242 },
    );
    await sendTrap(
      snmp.createV3Session('127.0.0.1', NET_SNMP_USER, { trapPort, sourceAddress: '127.0.0.2' }),
      ON_BATTERY,
      [{ oid: OIDS.batteryTemp, type: snmp.ObjectType.Integer, value: 45 }],
    );
    await sendTrap(
      snmp.createSession('127.0.0.1', TRAP_COMMUNITY, { version: snmp.Version1, trapPort }),
      '1.3.6.1.4.1.318.2',
      [],
      { agentAddr: '10.9.8.7' },
    );
    await sendTrap(
      snmp.createSession('127.0.0.1', 'not-the-community', { version: snmp.Version2c, trapPort }),
      ON_BATTERY,
      [],
    );
    const garbage = Buffer.from('30 03 02 01'.replaceAll(' ', ''), 'hex');
    const raw = createSocket('udp4');
    await new Promise((resolve) => raw.send(garbage, trapPort, '127.0.0.1', resolve));
    raw.close();

    const trapOf = async (source: string) =>
      waitFor(`a trap from ${source}`, async () => (await batchesOf(jsm, source)).find(isTrap), 15_000, 50);
    const pdu = byName((await trapOf('pdu-1')).samples);
    assert.deepEqual([pdu.get('trap')?.stringValue, pdu.get('trap')?.flags], [ON_BATTERY, ['trap']]);
    assert.deepEqual([pdu.get('current')?.doubleValue, pdu.get('current')?.unit], [15, 'A']);
    assert.equal(pdu.get(BREAKER_TEXT)?.stringValue, 'breaker B2 tripped');
    assert.equal(pdu.get('trap')?.source?.address, `127.0.0.1/${ON_BATTERY}`);

    const ups = byName((await trapOf('ups-1')).samples);
    assert.equal(ups.get('trap')?.stringValue, ON_BATTERY);
    assert.deepEqual(
      [ups.get('battery-temp')?.intValue?.toNumber(), ups.get('battery-temp')?.unit],
      [45, 'degC'],
    );

    const v1 = byName((await trapOf('10.9.8.7')).samples);
    assert.equal(v1.get('trap')?.pointId, 'snmp:10.9.8.7:trap');
    assert.equal(v1.get('trap')?.stringValue, '1.3.6.1.4.1.318.0.2');

    const letter = await waitFor('the undecodable datagram dead-lettered', async () =>
      (await deadLetters(jsm)).find((l) => l.origin === 'snmp-trap:127.0.0.1'),
    );
    assert.equal(letter.code, 'decode-error');
    assert.deepEqual(Buffer.from(letter.data), garbage);
    await waitFor('the wrong community rejected', async () => (await outcome('trap-rejected')) === 1);
    assert.equal(await outcome('trap-received'), 4);
  });

  it('publishes the cycle in hand before stop returns: every GET the agent saw is on RAW', async () => {
    await rt.stop();
    const polls = (await batchesOf(jsm, 'pdu-1')).filter((b) => !isTrap(b)).length;
    assert.equal(agent.seen.pduCurrent, polls);
  });
});
