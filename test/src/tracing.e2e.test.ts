import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import mqtt from 'mqtt';
import { PIPELINE, Supervisor, provision } from '@busway/cli';
import { Long, org, Subjects } from '@busway/proto';
import { Hdr, loadConfig } from '@busway/runtime';
import { buildPlant, buildSiteModel, DataType, SimulatorConfigSchema } from '@busway/simulator';
import { startMosquitto, startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';

const SITE = 'ai1';
const WORKERS = ['ingest-sparkplug', 'sparkplug-decode', 'normalizer', 'correlator', 'anomaly', 'fanout'];
const SpanKind = { Client: 3, Producer: 4, Consumer: 5 } as const;

describe('one trace from a Sparkplug sensor to a UNS subscriber, exported over OTLP by every worker', () => {
  let nats: TestServer;
  let redis: TestServer;
  let broker: TestServer;
  let otlp: OtlpReceiver;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let sup: Supervisor;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    [nats, redis, broker, otlp] = await Promise.all([
      startNats(),
      startRedis(),
      startMosquitto(),
      OtlpReceiver.start(),
    ]);
    env = {
      ...process.env,
      NATS_URL: nats.url,
      REDIS_URL: redis.url,
      MQTT_URL: broker.url,
      BUSWAY_SITE: SITE,
      BUSWAY_LOG_LEVEL: 'warn',
      BUSWAY_CONFIG: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_BSP_SCHEDULE_DELAY: '200', // spans leave each worker within 0.2 s instead of 5 s
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      BUSWAY_OUT_OF_ORDERNESS_MS: '200', // the correlator releases the lone sample soon
      BUSWAY_IDLE_TIMEOUT_MS: '500',
    };
    const siteModel = buildSiteModel(loadConfig(SimulatorConfigSchema, { env, worker: 'simulator' }));
    const workers = PIPELINE.filter((w) => WORKERS.includes(w.name));
    await provision({ natsUrl: nats.url, redisUrl: redis.url, siteModel, workers, env, logLevel: 'warn' });
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    sup = new Supervisor(env, mkdtempSync(join(tmpdir(), 'busway-tracing-logs-')));
    for (const w of WORKERS) await sup.start(w);
    await sup.waitReady(60_000); // five processes starting at once on a shared machine
  });

  after(async () => {
    await sup?.stopAll(WORKERS);
    await nc?.close();
    await otlp?.close();
    await Promise.all([nats?.dispose(), redis?.dispose(), broker?.dispose()]);
  });

  it('links the bridge, decode stage, normalizer, correlator, anomaly and fan-out spans into the trace the sensor started', async () => {
    const plant = buildPlant(loadConfig(SimulatorConfigSchema, { env, worker: 'simulator' }));
    const cdu = plant.devices.find((d) => d.id.startsWith('cdu-'));
    assert.ok(cdu, 'the simulated plant has a CDU');
    const topic = `spBv1.0/${plant.group}/DBIRTH/${cdu.edge}/${cdu.id}`;
    const auditSubject = Subjects.sparkplugOriginal(plant.group, cdu.edge);
    const rawSubject = Subjects.rawSamples('sparkplug', `${plant.group}-${cdu.edge}`);

    // a subscriber of the UNS, as any application would be
    const delivered: Msg[] = [];
    const sub = nc.subscribe('uns.v1.>', { callback: (_err, m) => void delivered.push(m) });

    // the sensor's own span: its context travels in MQTT 5 user properties (W3C trace context for MQTT)
    const traceId = randomBytes(16).toString('hex');
    const sensorSpanId = randomBytes(8).toString('hex');
    const now = Long.fromNumber(Date.now(), true);
    const payload = org.eclipse.tahu.protobuf.Payload.encode({
      timestamp: now,
      seq: Long.fromNumber(0, true),
      metrics: [
        {
          name: 'Coolant/Return Temp',
          alias: Long.fromNumber(1, true),
          datatype: DataType.Double,
          timestamp: now,
          doubleValue: 31.5,
          properties: { keys: ['engUnit'], values: [{ type: DataType.String, stringValue: 'degC' }] },
        },
      ],
    }).finish();
    const sensor = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    await sensor.publishAsync(topic, Buffer.from(payload), {
      qos: 1,
      properties: { userProperties: { traceparent: `00-${traceId}-${sensorSpanId}-01` } },
    });
    await sensor.endAsync();

    const uns = await waitFor('the sample at a UNS subscriber', async () => delivered[0], 30_000);
    sub.unsubscribe();
    const inTrace = () => otlp.spans.filter((s) => s.traceId === traceId);
    const one = (service: string, name: string, kind: number): ReceivedSpan => {
      const found = inTrace().filter((s) => s.service === `busway-${service}` && s.name === name);
      assert.equal(found.length, 1, `one ${name} span of ${service} (${listSpans(inTrace())})`);
      const span = found[0] as ReceivedSpan;
      assert.equal(span.kind, kind, `${name} has span kind ${kind}`);
      assert.equal(span.status, 0, `${name} did not fail`);
      return span;
    };
    await waitFor(
      'spans of every stage',
      async () =>
        WORKERS.every((w) => inTrace().some((s) => s.service === `busway-${w}`)) &&
        inTrace().some((s) => s.service === 'busway-fanout' && s.name.startsWith('send uns.v1.')),
      20_000,
    ).catch(() => undefined); // the assertions below say which span is missing

    // the bridge: one span for the MQTT message, child of the sensor's; its store on AUDIT under it
    const received = one('ingest-sparkplug', `process ${topic}`, SpanKind.Consumer);
    assert.equal(received.parentSpanId, sensorSpanId, 'the bridge continues the sensor trace');
    assert.equal(received.attributes['messaging.system'], 'mqtt');
    assert.equal(received.attributes['messaging.destination.name'], topic);
    assert.equal(received.attributes['messaging.operation.type'], 'process');
    const toAudit = one('ingest-sparkplug', `send ${auditSubject}`, SpanKind.Producer);
    assert.equal(toAudit.parentSpanId, received.spanId);
    assertSend(toAudit, auditSubject);

    // the decode stage: processes the stored message, publishes its samples to RAW
    const decoded = one('sparkplug-decode', `process ${auditSubject}`, SpanKind.Consumer);
    assert.equal(decoded.parentSpanId, toAudit.spanId, 'the decode stage continues the AUDIT message trace');
    assertProcess(decoded, auditSubject, 'sparkplug-decode', 'AUDIT');
    const toRaw = one('sparkplug-decode', `send ${rawSubject}`, SpanKind.Producer);
    assert.equal(toRaw.parentSpanId, decoded.spanId);
    assertSend(toRaw, rawSubject);

    // the normalizer: processes that message, publishes its rack's NORM batch
    const normalized = one('normalizer', `process ${rawSubject}`, SpanKind.Consumer);
    assert.equal(normalized.parentSpanId, toRaw.spanId, 'the normalizer continues the RAW message trace');
    assertProcess(normalized, rawSubject, 'normalizer', 'RAW');
    const toNorm = childSend(inTrace(), normalized, 'norm.v1.samples.');

    // the correlator: processes the NORM message; the reorder buffer releases the sample later, and that
    // publish continues the trace of the batch it came in with
    const normSubject = String(toNorm.attributes['messaging.destination.name']);
    const correlated = one('correlator', `process ${normSubject}`, SpanKind.Consumer);
    assert.equal(correlated.parentSpanId, toNorm.spanId);
    assertProcess(correlated, normSubject, 'correlator', 'NORM');
    const toOrdered = childSend(inTrace(), correlated, 'ordered.v1.samples.');
    const orderedSubject = String(toOrdered.attributes['messaging.destination.name']);

    // the two readers of ORDERED: anomaly scoring and fan-out delivery, each a child of the ORDERED publish
    const scored = one('anomaly', `process ${orderedSubject}`, SpanKind.Consumer);
    assert.equal(scored.parentSpanId, toOrdered.spanId);
    assertProcess(scored, orderedSubject, 'anomaly', 'ORDERED');
    const fanned = one('fanout', `process ${orderedSubject}`, SpanKind.Consumer);
    assert.equal(fanned.parentSpanId, toOrdered.spanId);
    assertProcess(fanned, orderedSubject, 'fanout-samples', 'ORDERED');
    const toUns = childSend(inTrace(), fanned, 'uns.v1.');

    // the subscriber's message carries the fan-out's send span as its parent: the end of the chain
    assert.equal(toUns.attributes['messaging.destination.name'], uns.subject);
    assert.equal(uns.headers?.get(Hdr.TraceParent), `00-${traceId}-${toUns.spanId}-01`);
    assert.match(uns.subject, new RegExp(`^uns\\.v1\\.${SITE}\\.h1\\.r\\d+\\..+\\.cdu\\.${cdu.id}\\.`));

    // the source's time travels in ce-time from RAW through ORDERED, so every stage measures event latency
    const rawTime = (await jsm.streams.getMessage('RAW', { last_by_subj: rawSubject }))?.header.get(Hdr.Time);
    const orderedMsg = await jsm.streams.getMessage('ORDERED', { last_by_subj: orderedSubject });
    assert.ok(rawTime);
    assert.equal(orderedMsg?.header.get(Hdr.Time), rawTime, 'ORDERED keeps the ce-time of the RAW message');
    assert.deepEqual(otlp.errors, [], 'every export decoded');
  });

  it('exports each worker’s Prometheus metrics over OTLP as well', async () => {
    const point = (service: string, name: string, attrs: Record<string, string>) =>
      otlp.metrics
        .filter((m) => m.service === `busway-${service}` && m.name === name)
        .flatMap((m) => m.points.map((p) => ({ type: m.type, ...p })))
        .find((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));
    const acked = await waitFor(
      'the normalizer’s message counter over OTLP',
      async () => point('normalizer', 'busway_messages_total', { stage: 'normalize', outcome: 'ack' }),
      10_000,
    );
    assert.equal(acked.type, 'sum');
    assert.ok((acked.value ?? 0) >= 1, 'the normalizer acknowledged the RAW message');
    const latency = await waitFor(
      'the fan-out’s event latency over OTLP',
      async () => point('fanout', 'busway_event_latency_seconds', { stage: 'fanout' }),
      10_000,
    );
    assert.equal(latency.type, 'histogram');
    assert.ok((latency.count ?? 0) >= 1, 'the fan-out observed the message’s event latency');
    const lag = await waitFor(
      'the normalizer’s consumer lag over OTLP',
      async () =>
        point('normalizer', 'busway_consumer_pending_messages', { stream: 'RAW', consumer: 'normalizer' }),
      10_000,
    );
    assert.equal(lag.type, 'gauge');
    assert.equal(lag.value, 0, 'the normalizer has read everything');
  });
});

function assertSend(span: ReceivedSpan, subject: string): void {
  assert.equal(span.attributes['messaging.system'], 'nats');
  assert.equal(span.attributes['messaging.operation.type'], 'send');
  assert.equal(span.attributes['messaging.destination.name'], subject);
  assert.ok(span.attributes['messaging.message.id'], `${span.name} names its message id`);
}

function assertProcess(span: ReceivedSpan, subject: string, consumer: string, stream: string): void {
  assert.equal(span.attributes['messaging.system'], 'nats');
  assert.equal(span.attributes['messaging.operation.type'], 'process');
  assert.equal(span.attributes['messaging.destination.name'], subject);
  assert.equal(span.attributes['messaging.consumer.group.name'], consumer);
  assert.equal(span.attributes['messaging.batch.message_count'], 1);
  assert.equal(span.attributes['busway.stream'], stream);
  assert.deepEqual(span.links, [], 'a single-message batch continues its trace instead of linking');
}

/** The one send span under `parent` whose subject starts with `prefix`. */
function childSend(spans: ReceivedSpan[], parent: ReceivedSpan, prefix: string): ReceivedSpan {
  const found = spans.filter(
    (s) =>
      s.parentSpanId === parent.spanId && s.kind === SpanKind.Producer && s.name.startsWith(`send ${prefix}`),
  );
  assert.equal(found.length, 1, `one send ${prefix}… under ${parent.name} (${listSpans(spans)})`);
  const span = found[0] as ReceivedSpan;
  assert.equal(span.traceId, parent.traceId);
  assertSend(span, span.name.slice('send '.length));
  return span;
}

function listSpans(spans: ReceivedSpan[]): string {
  return spans.map((s) => `${s.service}: ${s.name}`).join('; ');
}
