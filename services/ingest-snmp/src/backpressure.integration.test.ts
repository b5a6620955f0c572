import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import snmp from 'net-snmp';
import { ensureStream, fabricStreams, runWorker, type WorkerRuntime } from '@busway/runtime';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import { ingestSnmpModule } from './index.js';
import {
  batchesOf,
  closeAgent,
  COMMUNITY,
  countOf,
  freeUdpPort,
  OIDS,
  sendTrap,
  startAgent,
  TRAP_COMMUNITY,
  type TestAgent,
} from './test-fixtures.js';

// an agent address no target has: its traps go to raw.v1.samples.snmp.127-0-0-5
const AGENT = '127.0.0.5';

describe('SNMP bridge while JetStream does not acknowledge', () => {
  let nats: TestServer;
  let agent: TestAgent;
  let rt: WorkerRuntime;
  let trapPort: number;
  const outcome = (name: string) =>
    rt.metrics.value('busway_messages_total', { stage: 'ingest', outcome: name });

  before(async () => {
    nats = await startNats();
    agent = await startAgent();
    trapPort = await freeUdpPort();
    const targets = [
      {
        id: 'pdu-1',
        host: '127.0.0.1',
        port: agent.port,
        community: COMMUNITY,
        pollIntervalMs: 100,
        maxBackoffMs: 400,
        points: [{ name: 'current', oid: OIDS.pduCurrent, scale: 0.1, unit: 'A' }],
      },
    ];
    ({ rt } = await runWorker(ingestSnmpModule, {
      env: {
        NATS_URL: nats.url,
        BUSWAY_LOG_LEVEL: 'silent',
        BUSWAY_TARGETS: JSON.stringify(targets),
        BUSWAY_TRAP_PORT: String(trapPort),
        BUSWAY_TRAP_COMMUNITY: TRAP_COMMUNITY,
        BUSWAY_MAX_PENDING_TRAPS: '2',
      },
      signals: false,
    }));
  });

  after(async () => {
    await rt?.stop();
    await closeAgent(agent);
    await nats?.dispose();
  });

  it('stops polling until the withheld cycle is stored, holds at most maxPendingTraps traps, then delivers', async () => {
    await waitFor('pdu-1 polled', async () => (await countOf(rt.jsm, 'pdu-1')) >= 3, 15_000, 50);
    // without the RAW stream every publish is refused at once: JetStream is "down" for this worker
    await rt.jsm.streams.delete('RAW');
    await waitFor('a refused publish', async () => (await outcome('publish-failed')) >= 1, 15_000, 20);
    const refusedAt = Date.now();
    const getsWhenRefused = agent.seen.pduCurrent;

    for (let i = 1; i <= 5; i++) {
      const options = { version: snmp.Version2c, trapPort, sourceAddress: AGENT };
      const session = snmp.createSession('127.0.0.1', TRAP_COMMUNITY, options);
      await sendTrap(session, `1.3.6.1.4.1.99999.0.${i}`, []);
    }
    await waitFor('five traps received', async () => (await outcome('trap-received')) === 5, 15_000, 20);
    await waitFor('three more refusals', async () => (await outcome('publish-failed')) >= 4, 15_000, 20);
    assert.equal(
      agent.seen.pduCurrent,
      getsWhenRefused,
      'no poll while the previous cycle is unacknowledged',
    );
    // one trap in the publish being retried, one waiting: the other three are dropped and counted
    assert.equal(await outcome('trap-dropped'), 3);

    const raw = fabricStreams().find((s) => s.name === 'RAW');
    assert.ok(raw);
    await ensureStream(rt.jsm, raw, rt.log);
    await waitFor('polling resumed', async () => (await countOf(rt.jsm, 'pdu-1')) >= 3, 15_000, 50);
    const [withheld] = await batchesOf(rt.jsm, 'pdu-1');
    assert.ok(withheld, 'the withheld cycle was delivered, not dropped');
    assert.ok(Number(withheld.samples[0]?.sequence?.toString()) <= refusedAt, 'polled before the refusals');
    assert.ok((await outcome('poll-skipped')) >= 1, 'the ticks missed while waiting are counted');
    assert.ok(agent.seen.pduCurrent > getsWhenRefused);

    await waitFor('the two held traps stored', async () => (await countOf(rt.jsm, AGENT)) === 2, 15_000, 50);
    const traps = (await batchesOf(rt.jsm, AGENT)).map((b) => b.samples[0]?.stringValue);
    assert.deepEqual(traps, ['1.3.6.1.4.1.99999.0.1', '1.3.6.1.4.1.99999.0.2']);
  });
});
