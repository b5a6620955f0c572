import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HTTP, type CloudEventV1 } from 'cloudevents';
import { Webhook } from 'standardwebhooks';
import { busway, EventTypes, timeNsFromMs } from '@busway/proto';
import { fabricHeaders, Hdr, runWorker, type WorkerRuntime } from '@busway/runtime';
import { freePort, startNats, waitFor, type TestServer } from '@busway/testkit';
import { durableOf, egressWebhookModule } from './index.js';
import { TestReceiver } from './test-receiver.js';

const SECRET = `whsec_${Buffer.from('a test secret of 24 bytes').toString('base64')}`;
const T = 1_800_000_000_000;

const alarmBatch = (alarmId: string) =>
  busway.v1.EventBatch.encode({
    events: [
      {
        id: alarmId,
        kind: busway.v1.EventKind.EVENT_KIND_ALARM,
        eventTimeNs: timeNsFromMs(T),
        alarm: { alarmId, code: 'spike', severity: 'major', active: true, path: { site: 'ai1' } },
      },
    ],
  }).finish();
const sampleBatch = (v: number) =>
  busway.v1.SampleBatch.encode({
    samples: [
      { pointId: 'p:1', metric: 'flow.coolant', doubleValue: v, unit: 'L/min', eventTimeNs: timeNsFromMs(T) },
    ],
  }).finish();

describe('webhook egress against real nats-server and a real HTTP receiver', () => {
  let nats: TestServer;
  let rt: WorkerRuntime;
  const rx = new TestReceiver();
  let n = 0;
  const publish = async (subject: string, data: Uint8Array, type: string) => {
    const id = `t-${++n}`;
    await rt.js.publish(subject, data, { headers: fabricHeaders({ type, source: '/test', id }), msgID: id });
    return id;
  };
  const endpoint = (id: string, path: string, subjects: string[], extra: Record<string, unknown> = {}) => ({
    id,
    url: rx.url(path),
    subjects,
    initialBackoffMs: 100,
    maxBackoffMs: 400,
    timeoutMs: 2000,
    ...extra,
  });

  before(async () => {
    nats = await startNats();
    await rx.start();
    rx.on('/ok', () => ({ status: 204 }))
      .on('/flaky', (k) => (k <= 2 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }))
      .on('/down', () => ({ status: 500 }))
      .on('/bad', () => ({ status: 400 }))
      .on('/alive', () => ({ status: 200 }))
      .on('/batch', () => ({ status: 202 }));
    const closedPort = await freePort(); // nothing listens: connection refused
    const endpoints = [
      endpoint('ok', '/ok', ['alarm.v1.ok.>'], { secret: SECRET }),
      endpoint('flaky', '/flaky', ['alarm.v1.flaky.>']),
      endpoint('down', '/down', ['incident.v1.down.>'], { maxAttempts: 3, breakerThreshold: 100 }),
      endpoint('bad', '/bad', ['incident.v1.bad.>']),
      {
        ...endpoint('dead', '/', ['uns.v1.dead.>'], { breakerThreshold: 2, breakerOpenMs: 60_000 }),
        url: `http://127.0.0.1:${closedPort}/`,
      },
      endpoint('alive', '/alive', ['uns.v1.alive.>']),
      endpoint('batch', '/batch', ['uns.v1.batch.>'], { batchSize: 10 }),
    ];
    ({ rt } = await runWorker(egressWebhookModule, {
      env: { NATS_URL: nats.url, BUSWAY_LOG_LEVEL: 'silent', BUSWAY_ENDPOINTS: JSON.stringify(endpoints) },
      signals: false,
    }));
  });
  after(async () => {
    await rt.stop();
    await rx.stop();
    await nats.dispose();
  });

  it('POSTs an alarm as a CloudEvent that the CloudEvents SDK reads, signed so that Standard Webhooks verifies it', async () => {
    const id = await publish('alarm.v1.ok.h1.r1.rack-1', alarmBatch('al-1'), EventTypes.EventBatch);
    const [req] = await waitFor('the alarm POST', () => (rx.at('/ok').length > 0 ? rx.at('/ok') : undefined));
    assert.ok(req);
    const headers = req.headers as Record<string, string>;
    assert.equal(headers['content-type'], 'application/cloudevents+json; charset=utf-8');
    new Webhook(SECRET).verify(req.body, headers, { jsonParse: false });
    assert.equal(headers['webhook-id'], id, 'the delivery id is the event id, the same on every attempt');
    const ce = HTTP.toEvent({ headers, body: req.body }) as CloudEventV1<{
      events: { alarm: { alarmId: string } }[];
    }>;
    assert.equal(ce.id, id);
    assert.equal(ce.type, EventTypes.EventBatch);
    assert.equal(ce.subject, 'alarm.v1.ok.h1.r1.rack-1');
    assert.equal(ce.data?.events[0]?.alarm.alarmId, 'al-1');
  });

  it('retries after 503, waits as long as Retry-After says, and delivers once the endpoint recovers', async () => {
    await publish('alarm.v1.flaky.h1.r1.rack-1', alarmBatch('al-2'), EventTypes.EventBatch);
    await waitFor('three attempts', () => rx.at('/flaky').length >= 3, 15_000);
    const [a, b, c] = rx.at('/flaky');
    assert.ok((b?.atMs ?? 0) - (a?.atMs ?? 0) >= 900, 'second attempt waited for Retry-After: 1');
    assert.ok((c?.atMs ?? 0) - (b?.atMs ?? 0) >= 900, 'third attempt too');
    await waitFor(
      'acked',
      async () =>
        (await rt.jsm.consumers.info('ALARMS', durableOf('flaky', 'alarm.v1.flaky.>'))).num_ack_pending === 0,
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rx.at('/flaky').length, 3, 'no attempt after the 200');
  });

  it('dead-letters the event on dlq.v1.egress-webhook with the reason and the payload after the last attempt', async () => {
    const data = busway.v1.Incident.encode({ id: 'inc-9', kind: 'job-power-thermal' }).finish();
    await publish('incident.v1.down.job-power-thermal', data, EventTypes.Incident);
    const dead = await waitFor(
      'dead letter',
      () =>
        rt.jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.v1.egress-webhook' }).catch(() => undefined),
      15_000,
    );
    assert.equal(rx.at('/down').length, 3, 'maxAttempts 3: three POSTs');
    assert.equal(dead.header.get(Hdr.DlqCode), 'http-500');
    assert.match(
      dead.header.get(Hdr.DlqReason),
      /gave up after 3 deliveries: endpoint down attempt 3 of 3: HTTP 500/,
    );
    assert.equal(dead.header.get(Hdr.DlqSubject), 'incident.v1.down.job-power-thermal');
    assert.deepEqual(Buffer.from(dead.data), Buffer.from(data), 'the original payload');
  });

  it('dead-letters at once, without retrying, what the endpoint refuses with a 4xx', async () => {
    const data = busway.v1.Incident.encode({ id: 'inc-10', kind: 'x' }).finish();
    const id = await publish('incident.v1.bad.x', data, EventTypes.Incident);
    const dead = await waitFor('dead letter', async () => {
      const m = await rt.jsm.streams
        .getMessage('DLQ', { last_by_subj: 'dlq.v1.egress-webhook' })
        .catch(() => undefined);
      return m?.header.get(Hdr.Id) === id ? m : undefined;
    });
    assert.equal(dead.header.get(Hdr.DlqCode), 'http-400');
    assert.equal(rx.at('/bad').length, 1);
  });

  it('keeps delivering to a live endpoint while another is dead and its circuit breaker is open', async () => {
    for (let i = 0; i < 20; i++) {
      await publish(
        'uns.v1.dead.h1.r1.rack-1.cdu.cdu-1.flow.coolant',
        sampleBatch(i),
        EventTypes.SampleBatch,
      );
      await publish(
        'uns.v1.alive.h1.r1.rack-1.cdu.cdu-1.flow.coolant',
        sampleBatch(i),
        EventTypes.SampleBatch,
      );
    }
    await waitFor('every sample at the live endpoint', () => rx.at('/alive').length >= 20, 15_000);
    await waitFor(
      'breaker open',
      async () => (await rt.metrics.value('busway_webhook_breaker_open', { endpoint: 'dead' })) === 1,
    );
    const dead = await rt.jsm.consumers.info('UNS', durableOf('dead', 'uns.v1.dead.>'));
    assert.equal(dead.num_ack_pending + dead.num_pending, 20, 'the dead endpoint keeps all 20, none lost');
    const refused = await rt.metrics.value('busway_webhook_requests_total', {
      endpoint: 'dead',
      tier: 'analytics',
      result: 'network',
    });
    assert.ok(refused <= 2, `an open breaker sends nothing more (${refused} attempts)`);
  });

  it('sends up to batchSize events per POST as a CloudEvents JSON batch', async () => {
    for (let i = 0; i < 25; i++)
      await publish(
        'uns.v1.batch.h1.r1.rack-1.cdu.cdu-1.flow.coolant',
        sampleBatch(i),
        EventTypes.SampleBatch,
      );
    await waitFor(
      '25 events',
      () => rx.at('/batch').reduce((s, r) => s + (JSON.parse(r.body) as unknown[]).length, 0) >= 25,
    );
    for (const r of rx.at('/batch')) {
      assert.equal(r.headers['content-type'], 'application/cloudevents-batch+json; charset=utf-8');
      const events = HTTP.toEvent({
        headers: r.headers as Record<string, string>,
        body: r.body,
      }) as CloudEventV1<unknown>[];
      assert.ok(events.length >= 1 && events.length <= 10);
    }
    const values = rx
      .at('/batch')
      .flatMap((r) => JSON.parse(r.body) as { data: { samples: { doubleValue: number }[] } }[])
      .map((e) => e.data.samples[0]?.doubleValue);
    assert.deepEqual(
      [...new Set(values)].sort((a, b) => (a ?? 0) - (b ?? 0)),
      Array.from({ length: 25 }, (_, i) => i),
    );
  });
});
