import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import mqtt from 'mqtt';
import { decodePayload, ingestSparkplugModule, metricsToSamples } from '@busway/ingest-sparkplug';
import { busway, Long, nowNs, org } from '@busway/proto';
import { connectMqttIngest, createLogger, ensureStream, fabricStreams, runWorker } from '@busway/runtime';
import { startMosquitto, startNats, waitFor } from '@busway/testkit';
import type { BenchRow } from './normalizer.bench.js';

const u64 = (n: number) => Long.fromNumber(n, true);

/** NDATA payloads of a rack gateway: `metrics` metrics by name, each with its own timestamp, like a busy edge node. */
function ndataPayloads(count: number, metrics: number): Buffer[] {
  const t0 = Date.now();
  return Array.from({ length: count }, (_, i) =>
    Buffer.from(
      org.eclipse.tahu.protobuf.Payload.encode({
        timestamp: u64(t0 + i),
        seq: u64(i % 256),
        metrics: Array.from({ length: metrics }, (_, k) => ({
          name: `Rack ${k % 40}/Node ${k}/Power`,
          datatype: 10,
          doubleValue: 1000 + Math.random() * 5000,
          timestamp: u64(t0 + i),
        })),
      }).finish(),
    ),
  );
}

/** The bridge's CPU path alone on one core: decode the Sparkplug payload, map its metrics, encode the batch. */
function cpuPath(payloads: Buffer[]): { metricsPerS: number; bytesIn: number; bytesOut: number } {
  const ctx = {
    topic: { group: 'bench', type: 'NDATA' as const, edge: 'gw' },
    address: 'spBv1.0/bench/NDATA/gw',
    byAlias: new Map(),
    byName: new Map(),
    ingestTimeNs: nowNs(),
  };
  let metrics = 0;
  let bytesOut = 0;
  const step = (p: Buffer) => {
    const { samples } = metricsToSamples(decodePayload(p), ctx);
    bytesOut += busway.v1.SampleBatch.encode({ samples }).finish().length;
    metrics += samples.length;
  };
  for (const p of payloads) step(p); // warm-up
  metrics = 0;
  bytesOut = 0;
  const start = performance.now();
  for (let round = 0; round < 3; round++) for (const p of payloads) step(p);
  const seconds = (performance.now() - start) / 1000;
  const bytesIn = payloads.reduce((n, p) => n + p.length, 0) * 3;
  return { metricsPerS: metrics / seconds, bytesIn, bytesOut };
}

/** Publishes every payload at QoS 1 and resolves when the broker has them all. */
async function publishAll(url: string, topic: string, payloads: Buffer[]): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `bench-pub-${process.pid}-${Math.random()}` });
  await Promise.all(payloads.map((p) => client.publishAsync(topic, p, { qos: 1 })));
  await client.endAsync();
}

/**
 * Sparkplug ingest end to end (Mosquitto → bridge → JetStream) beside a pass-through that moves the same MQTT
 * messages into JetStream unread (same MQTT session settings, same PubAck before PUBACK), in the same run. The
 * bridge also keeps each message on the AUDIT stream, so it makes two JetStream writes per message to one.
 */
export async function benchSparkplugIngest(messages: number, metricsPerMessage: number): Promise<BenchRow[]> {
  const [nats, broker] = await Promise.all([startNats(), startMosquitto()]);
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    const js = jsm.jetstream();
    const log = createLogger('bench', 'warn');
    for (const s of fabricStreams()) await ensureStream(jsm, s, log);
    await ensureStream(
      jsm,
      { name: 'PASS', subjects: ['pass.>'], maxAgeMs: 3_600_000, maxBytes: 1024 ** 3, replicas: 1 },
      log,
    );
    const payloads = ndataPayloads(messages, metricsPerMessage);
    const cpu = cpuPath(payloads);

    // baseline: MQTT → JetStream, no decoding
    let passed = 0;
    const pass = await connectMqttIngest(
      { mqttUrl: broker.url, mqttClientId: 'bench-pass', receiveMaximum: 64 },
      log,
      async (_topic, payload) => {
        await js.publish('pass.sparkplug', payload);
        passed++;
      },
    );
    await pass.subscribeAsync('spBv1.0/pass/#', { qos: 1 });
    let start = performance.now();
    await publishAll(broker.url, 'spBv1.0/pass/NDATA/gw', payloads);
    await waitFor('the pass-through', async () => passed === messages, 600_000, 20);
    const passSeconds = (performance.now() - start) / 1000;
    await pass.endAsync();

    const { rt } = await runWorker(ingestSparkplugModule, {
      env: { NATS_URL: nats.url, MQTT_URL: broker.url, BUSWAY_LOG_LEVEL: 'warn', BUSWAY_GROUPS: 'bench' },
      signals: false,
    });
    start = performance.now();
    await publishAll(broker.url, 'spBv1.0/bench/NDATA/gw', payloads);
    await waitFor(
      'the bridge',
      async () => (await jsm.streams.info('RAW')).state.messages >= messages,
      600_000,
      50,
    );
    const bridgeSeconds = (performance.now() - start) / 1000;
    await rt.stop();

    const baseline = {
      name: 'MQTT → JetStream pass-through',
      value: (messages * metricsPerMessage) / passSeconds,
    };
    const value = (messages * metricsPerMessage) / bridgeSeconds;
    return [
      {
        name: `Sparkplug ingest metrics/s (${metricsPerMessage} metrics per NDATA, end to end)`,
        value,
        unit: 'metrics/s',
        baseline,
        ratio: value / baseline.value,
        target: '>= 0.6 of pass-through',
        pass: value / baseline.value >= 0.6,
      },
      {
        name: 'bridge CPU path alone (decode, map, encode), one core',
        value: cpu.metricsPerS,
        unit: 'metrics/s',
        target: '>= 200k metrics/s per core',
        pass: cpu.metricsPerS >= 200_000,
      },
      {
        name: 'bytes written to JetStream per byte received (samples + AUDIT copy), vs 1 for the pass-through',
        value: cpu.bytesOut / cpu.bytesIn + 1,
        unit: 'x',
      },
      {
        name: 'Sparkplug ingest metrics/s, end to end, absolute',
        value,
        unit: 'metrics/s',
        target: '>= 200k metrics/s per core (machine-dependent: compare the pass-through)',
        pass: value >= 200_000,
      },
    ];
  } finally {
    await nc.close();
    await Promise.all([nats.dispose(), broker.dispose()]);
  }
}
