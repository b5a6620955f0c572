import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { busway, msFromTimeNs } from '@busway/proto';
import { Hdr, runWorker, type WorkerRuntime } from '@busway/runtime';
import { freePort, startNats, waitFor, type TestServer } from '@busway/testkit';
import { IngestModbusConfigSchema, ingestModbusModule, planBlocks } from './index.js';
import {
  batchesOf,
  byName,
  closeMuteDevice,
  closePlant,
  countOf,
  HOST,
  PLC_POINTS,
  point,
  startMuteDevice,
  startPlant,
  type MuteDevice,
  type Plant,
} from './test-fixtures.js';

describe('Modbus TCP poller against modbus-serial ServerTCP and a real nats-server', () => {
  let nats: TestServer;
  let plant: Plant;
  let mute: MuteDevice;
  let rt: WorkerRuntime;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let plantPort: number;

  before(async () => {
    nats = await startNats();
    plantPort = await freePort();
    const [closedPort, mutePort] = [await freePort(), await freePort()];
    plant = await startPlant(plantPort);
    mute = await startMuteDevice(mutePort);
    const unreachable = { pollIntervalMs: 100, timeoutMs: 200, maxBackoffMs: 800 };
    const devices = [
      { id: 'plc-1', host: HOST, port: plantPort, unitId: 1, pollIntervalMs: 100, points: PLC_POINTS },
      {
        id: 'meter-bad',
        host: HOST,
        port: plantPort,
        unitId: 2,
        pollIntervalMs: 100,
        points: [
          point('ok', 'holding', 0),
          point('broken-float', 'holding', 2, { type: 'float32' }),
          point('missing', 'holding', 500),
        ],
      },
      { id: 'dead', host: HOST, port: closedPort, ...unreachable, points: [point('x', 'holding', 0)] },
      { id: 'mute', host: HOST, port: mutePort, ...unreachable, points: [point('x', 'holding', 0)] },
    ];
    ({ rt } = await runWorker(ingestModbusModule, {
      env: { NATS_URL: nats.url, BUSWAY_LOG_LEVEL: 'silent', BUSWAY_DEVICES: JSON.stringify(devices) },
      signals: false,
    }));
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
  });

  after(async () => {
    await rt?.stop();
    await nc?.close();
    await closePlant(plant);
    await closeMuteDevice(mute);
    await nats?.dispose();
  });

  it('publishes one batch per cycle: decoded values, units, scale and offset, source addresses', async () => {
    await waitFor('plc-1 polled', async () => (await countOf(jsm, 'plc-1')) >= 3, 15_000, 100);
    const last = (await batchesOf(jsm, 'plc-1')).at(-1);
    assert.ok(last);
    const s = byName(last.samples);
    assert.equal(s.size, PLC_POINTS.length);
    for (const sample of last.samples) {
      assert.equal(sample.quality, busway.v1.Quality.QUALITY_GOOD, `${sample.pointId} is good`);
      assert.equal(sample.clockSource, busway.v1.ClockSource.CLOCK_SOURCE_INGEST);
      assert.equal(msFromTimeNs(sample.eventTimeNs), Number(sample.sequence?.toString()));
      assert.equal(sample.source?.protocol, 'modbus');
      assert.equal(sample.source?.sourceId, 'plc-1');
    }
    assert.equal(last.id, `modbus:plc-1@${String(last.samples[0]?.sequence)}`);
    assert.equal(s.get('status-code')?.intValue?.toNumber(), -1);
    assert.equal(s.get('setpoint')?.doubleValue, 500 * 0.1 - 10);
    assert.equal(s.get('setpoint')?.unit, 'degC');
    assert.equal(s.get('supply-temp')?.doubleValue, 21.5);
    assert.equal(s.get('voltage')?.doubleValue, 230.25);
    assert.equal(s.get('voltage')?.unit, 'V');
    assert.equal(s.get('energy-delta')?.intValue?.toNumber(), -123_456);
    assert.equal(s.get('pi')?.doubleValue, Math.PI);
    assert.equal(s.get('alarm-word')?.intValue?.toNumber(), 1234);
    assert.equal(s.get('return-temp')?.doubleValue, 235 * 0.1);
    assert.equal(s.get('power')?.intValue?.toNumber(), 70_000);
    assert.deepEqual(
      ['pump-run', 'fan-run', 'valve-open', 'leak'].map((n) => s.get(n)?.boolValue),
      [true, false, true, true],
    );
    assert.equal(s.get('pi')?.pointId, 'modbus:plc-1:pi');
    assert.equal(s.get('pi')?.source?.address, `${HOST}:${plantPort}/1/holding/12`);
    assert.equal(s.get('leak')?.source?.address, `${HOST}:${plantPort}/1/discrete/10`);
  });

  it('keeps the raw reads of each cycle, as the device answered them, on the AUDIT stream', async () => {
    const m = await waitFor('an AUDIT copy', () =>
      jsm.streams.getMessage('AUDIT', { last_by_subj: 'audit.v1.modbus.plc-1' }).catch(() => undefined),
    );
    assert.equal(m.header.get(Hdr.Type), 'busway.v1.Original');
    const reads = JSON.parse(new TextDecoder().decode(m.data)) as unknown[];
    const first = reads[0] as Record<string, unknown>;
    assert.ok(reads.length > 0 && ('words' in first || 'bits' in first), JSON.stringify(reads).slice(0, 200));
  });

  it('keeps polling a good device at its interval while a refused and a hung device back off', async () => {
    await waitFor('plc-1 polled 30 times', async () => (await countOf(jsm, 'plc-1')) >= 30, 30_000, 100);
    const good = await countOf(jsm, 'plc-1');
    const [dead, hung] = [await batchesOf(jsm, 'dead'), await batchesOf(jsm, 'mute')];
    // same interval: without backoff, or with loops that wait for each other, these would be about equal
    assert.ok(dead.length >= 1 && dead.length < good / 2, `refused device: ${dead.length} cycles vs ${good}`);
    assert.ok(hung.length >= 1 && hung.length < good / 2, `hung device: ${hung.length} cycles vs ${good}`);
    for (const b of [...dead, ...hung]) {
      for (const sample of b.samples) {
        assert.equal(sample.quality, busway.v1.Quality.QUALITY_BAD);
        assert.deepEqual(sample.flags, ['read-failed']);
        assert.equal(sample.doubleValue ?? sample.intValue ?? sample.boolValue ?? null, null);
      }
    }
    const failed = await rt.metrics.value('busway_messages_total', {
      stage: 'ingest',
      outcome: 'read-failed',
    });
    assert.ok(failed >= 2, `read-failed counted: ${failed}`);
    const published = await rt.metrics.value('busway_messages_total', {
      stage: 'ingest',
      outcome: 'published',
    });
    assert.ok(published >= good + dead.length + hung.length - 4, `published counted: ${published}`);
  });

  it('dead-letters a rejected range and a NaN once, and marks those points QUALITY_BAD every cycle', async () => {
    await waitFor(
      'meter-bad polled 5 times',
      async () => (await countOf(jsm, 'meter-bad')) >= 5,
      15_000,
      100,
    );
    const batches = await batchesOf(jsm, 'meter-bad');
    for (const b of batches) {
      const s = byName(b.samples);
      assert.equal(s.get('ok')?.intValue?.toNumber(), 7);
      assert.equal(s.get('ok')?.quality, busway.v1.Quality.QUALITY_GOOD);
      assert.equal(s.get('broken-float')?.quality, busway.v1.Quality.QUALITY_BAD);
      assert.deepEqual(s.get('broken-float')?.flags, ['decode-error']);
      assert.equal(s.get('missing')?.quality, busway.v1.Quality.QUALITY_BAD);
      assert.deepEqual(s.get('missing')?.flags, ['modbus-exception']);
    }
    const dlq = await jsm.streams.info('DLQ');
    const letters: { subject: string; code: string; reason: string; body: Record<string, unknown> }[] = [];
    for (let seq = dlq.state.first_seq; dlq.state.messages > 0 && seq <= dlq.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage('DLQ', { seq });
      if (!m) continue;
      letters.push({
        subject: m.subject,
        code: m.header.get(Hdr.DlqCode),
        reason: m.header.get(Hdr.DlqReason),
        body: JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>,
      });
    }
    assert.equal(letters.length, 2, `one dead letter per fault, not per cycle: ${JSON.stringify(letters)}`);
    const [range, nan] = [...letters].sort((a, b) => a.code.localeCompare(b.code));
    assert.equal(range?.subject, 'dlq.v1.ingest-modbus');
    assert.equal(range?.code, 'contract-violation');
    assert.match(
      range?.reason ?? '',
      /read holding 500\+1 from meter-bad .*Modbus exception 2 \(illegal data address\)/,
    );
    assert.deepEqual(range?.body.points, ['missing']);
    assert.equal(nan?.code, 'decode-error');
    assert.match(nan?.reason ?? '', /broken-float.*7fc0 0000.*NaN/);
    assert.deepEqual(nan?.body.read, [0x7fc0, 0]);
    assert.equal(
      await rt.metrics.value('busway_dead_letters_total', { stage: 'ingest', reason: 'decode-error' }),
      1,
    );
  });

  it('reads each coalesced block with one request per cycle, every cycle published before stop returns', async () => {
    const config = IngestModbusConfigSchema.parse({
      devices: [{ id: 'plc-1', host: HOST, points: PLC_POINTS }],
    });
    const blocks = planBlocks(config.devices[0]?.points ?? [], {
      maxGap: config.maxGap,
      maxBlock: config.maxBlock,
    });
    assert.deepEqual(
      blocks.map((b) => `${b.table} ${b.start}+${b.count}`),
      ['holding 0+16', 'holding 100+1', 'input 0+3', 'coil 0+4', 'discrete 10+1'],
    );
    await rt.stop();
    const cycles = await countOf(jsm, 'plc-1');
    assert.deepEqual(plant.seen, {
      holding: 2 * cycles,
      input: cycles,
      coilBits: 4 * cycles,
      discreteBits: cycles,
    });
  });
});
