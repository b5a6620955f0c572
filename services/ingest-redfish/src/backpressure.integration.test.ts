import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureStream, fabricStreams, type WorkerRuntime } from '@busway/runtime';
import { RedfishService } from '@busway/simulator';
import { startNats, waitFor, type TestServer } from '@busway/testkit';
import { batchesOf, node, outcome, sequencesOf, startBridge } from './test-fixtures.js';

const MAX_BUFFER_BYTES = 2048;

describe('Redfish bridge over SSE while JetStream does not acknowledge', () => {
  let nats: TestServer;
  let bmc: RedfishService;
  let rt: WorkerRuntime;

  before(async () => {
    nats = await startNats();
    bmc = await RedfishService.start({ chassis: [node('n1', 1000)] });
    const endpoints = [{ id: 'bmc-bp', url: bmc.url, username: 'admin', password: 'redfish' }];
    ({ rt } = await startBridge(nats.url, endpoints, { BUSWAY_MAX_BUFFER_BYTES: String(MAX_BUFFER_BYTES) }));
    await waitFor('the stream', () => bmc.events.streams === 1);
  });

  after(async () => {
    await rt?.stop();
    await bmc?.close();
    await nats?.dispose();
  });

  it('holds a bounded buffer, stops reading the stream, then stores every report in order', async () => {
    bmc.emitReport();
    await waitFor('the first report', async () => (await batchesOf(rt, 'bmc-bp')).length === 1);
    await rt.jsm.streams.delete('RAW');
    const reportBytes = JSON.stringify(bmc.emitReport()).length;
    await waitFor('a refused publish', async () => (await outcome(rt, 'publish-failed')) >= 1);
    let peakBytes = 0;
    for (let i = 0; i < 40; i++) {
      bmc.emitReport();
      await new Promise((r) => setTimeout(r, 5));
      peakBytes = Math.max(
        peakBytes,
        await rt.metrics.value('busway_bridge_buffer_bytes', { stage: 'ingest' }),
      );
    }
    assert.ok(peakBytes > 0, 'reports are held, not dropped');
    assert.ok(peakBytes <= MAX_BUFFER_BYTES + reportBytes, `buffer bounded: ${peakBytes} bytes held`);
    assert.ok((await outcome(rt, 'source-paused')) >= 1, 'reading paused');
    assert.ok((await outcome(rt, 'report-received')) < 42, 'the rest waits in the socket, unread');

    const raw = fabricStreams().find((s) => s.name === 'RAW');
    assert.ok(raw);
    await ensureStream(rt.jsm, raw, rt.log);
    await waitFor('every report', async () => (await batchesOf(rt, 'bmc-bp')).length === 41, 15_000);
    assert.deepEqual(
      await sequencesOf(rt, 'bmc-bp'),
      Array.from({ length: 41 }, (_, i) => i + 2),
    );
    assert.equal(await outcome(rt, 'report-gap'), 0);
    assert.equal(await rt.metrics.value('busway_bridge_buffer_bytes', { stage: 'ingest' }), 0);
  });
});
