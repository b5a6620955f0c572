import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureStream, fabricStreams, type RunningWorker, type WorkerRuntime } from '@busway/runtime';
import { RedfishService } from '@busway/simulator';
import { freePort, startNats, waitFor, type TestServer } from '@busway/testkit';
import { batchesOf, makeCertificates, node, outcome, sequencesOf, startBridge } from './test-fixtures.js';

const ok = (status?: number) => status !== undefined && status >= 200 && status < 300;

describe('Redfish bridge with a push subscription (EventDestination) to its HTTPS listener', () => {
  let nats: TestServer;
  let bmc: RedfishService;
  let rt: WorkerRuntime;
  let worker: RunningWorker;
  let leftover: string;
  let certs: ReturnType<typeof makeCertificates>;

  before(async () => {
    nats = await startNats();
    certs = makeCertificates();
    // no SSE: `auto` must choose push because the bridge listens
    bmc = await RedfishService.start({
      chassis: [node('n1', 900)],
      features: { sse: false },
      events: {
        retryAttempts: 1000,
        retryIntervalMs: 150,
        pushTimeoutMs: 2000,
        pushCa: readFileSync(certs.caFile),
      },
    });
    const stale = bmc.events.subscribe({
      Destination: 'http://127.0.0.1:9/gone',
      EventFormatType: 'MetricReport',
      Context: 'busway:bmc-p',
    });
    assert.ok(typeof stale !== 'string');
    leftover = stale.id;
    const endpoints = [{ id: 'bmc-p', url: bmc.url, auth: 'basic', username: 'admin', password: 'redfish' }];
    ({ rt, worker } = await startBridge(nats.url, endpoints, {
      BUSWAY_PUSH_PORT: String(await freePort()),
      BUSWAY_PUSH_ADDRESS: '127.0.0.1',
      BUSWAY_PUSH_ACK_TIMEOUT_MS: '300',
      BUSWAY_PUSH_TLS_CERT_FILE: join(certs.dir, 'bmc.crt'),
      BUSWAY_PUSH_TLS_KEY_FILE: join(certs.dir, 'bmc.key'),
    }));
    await waitFor('the subscription', () =>
      [...bmc.events.subscriptions.values()].some((s) => s.id !== leftover),
    );
  });

  after(async () => {
    await rt?.stop();
    await bmc?.close();
    await nats?.dispose();
    rmSync(certs.dir, { recursive: true, force: true });
  });

  it('replaces a subscription an earlier run left, asking for MetricReports to its own listener', () => {
    assert.equal(bmc.events.subscriptions.has(leftover), false, 'the leftover is deleted');
    const [sub] = [...bmc.events.subscriptions.values()];
    assert.equal(bmc.events.subscriptions.size, 1);
    assert.equal(sub?.formatType, 'MetricReport');
    assert.equal(sub?.resource.Context, 'busway:bmc-p');
    assert.equal(sub?.destination.protocol, 'https:');
    assert.match(sub?.destination.pathname ?? '', /^\/redfish-events\/bmc-p\/[0-9a-f]{24}$/);
  });

  it('answers a push with 2xx once the report is stored, and a repeat with 2xx without storing it again', async () => {
    bmc.emitReport();
    await waitFor('the stored report', async () => (await batchesOf(rt, 'bmc-p')).length === 1);
    await waitFor('the answer', () => bmc.events.pushes.length >= 1);
    assert.ok(ok(bmc.events.pushes.at(-1)?.status));
    bmc.resendReport();
    await waitFor('the answer to the repeat', () => bmc.events.pushes.length >= 2);
    assert.ok(ok(bmc.events.pushes.at(-1)?.status));
    assert.equal((await batchesOf(rt, 'bmc-p')).length, 1);
    assert.equal(await outcome(rt, 'report-repeated'), 1);
  });

  it('acknowledges nothing while JetStream does not store, and the retried push lands once it does', async () => {
    await rt.jsm.streams.delete('RAW');
    const from = bmc.events.pushes.length;
    bmc.emitReport();
    await waitFor('refused attempts', () => bmc.events.pushes.length >= from + 3, 10_000);
    const refused = bmc.events.pushes.slice(from);
    assert.ok(
      refused.every((p) => !ok(p.status)),
      `no 2xx while unstored: ${JSON.stringify(refused)}`,
    );
    assert.ok(refused.some((p) => p.status === 503));
    const raw = fabricStreams().find((s) => s.name === 'RAW');
    assert.ok(raw);
    await ensureStream(rt.jsm, raw, rt.log);
    await waitFor('a 2xx', () => bmc.events.pushes.slice(from).some((p) => ok(p.status)), 10_000);
    await waitFor('the report', async () => (await sequencesOf(rt, 'bmc-p')).includes(2));
    assert.deepEqual(await sequencesOf(rt, 'bmc-p'), [2], 'stored once (RAW was recreated empty)');
  });

  it('deletes its subscription on stop', async () => {
    await worker.stop();
    assert.equal(bmc.events.subscriptions.size, 0);
  });
});
