import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { ingestSparkplugModule, NodeState, SparkplugTranscoder } from '@busway/ingest-sparkplug';
import { busway, nowNs, SlabPool } from '@busway/proto';
import {
  connectMqttIngest,
  createLogger,
  ensureStream,
  fabricStreams,
  NATS_CLIENT_TUNING,
  PubAckPublisher,
  runWorker,
} from '@busway/runtime';
import { startMosquitto, startNats, waitFor } from '@busway/testkit';
import type { BenchRow } from './normalizer.bench.js';
import { ndataPayloads } from './sparkplug-payloads.js';

/**
 * The bridge's CPU path alone on one core, as it reads an NDATA: its bytes straight to SampleBatch bytes
 * (the transcoder), on one node whose points the first pass has met.
 */
function cpuPath(payloads: Buffer[]): { metricsPerS: number; bytesIn: number; bytesOut: number } {
  const slabs = new SlabPool();
  const transcoder = new SparkplugTranscoder(slabs);
  const dev = new NodeState('bench/gw');
  const sourceField = busway.v1.SampleBatch.encode({
    source: { protocol: 'sparkplug', sourceId: 'bench/gw', address: 'spBv1.0/bench/NDATA/gw' },
  }).finish();
  let metrics = 0;
  let bytesOut = 0;
  const step = (p: Buffer) => {
    const out = transcoder.transcode(p, dev, nowNs(), sourceField);
    if (!out) throw new Error('the bench payload left the transcoder: it measures the path edge nodes take');
    bytesOut += out.data.length;
    metrics += out.samples;
    slabs.release(out.data); // as the bridge does once the batch is stored
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

const PUBLISHER = join(dirname(fileURLToPath(import.meta.url)), 'mqtt-publisher.js');

/** A publisher process: `started` once its payloads are made and it begins to publish, `done` when it exits. */
interface Publishing {
  started: Promise<void>;
  done: Promise<void>;
}

let publisherRuns = 0;

/** Publishes the payloads from a separate process (its CPU is not counted). */
function publishFromChild(
  url: string,
  topic: string,
  qos: 0 | 1,
  messages: number,
  metrics: number,
): Publishing {
  // each run's timestamps, hence its message ids, its own: a run's messages are never duplicates of another's
  const t0 = Date.now() - publisherRuns++ * 10_000_000;
  const args = [PUBLISHER, url, topic, String(qos), String(messages), String(metrics), String(t0)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`publisher exited ${code}`))));
  });
  const started = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('publishing')) resolve();
    });
    done.then(() => reject(new Error('the publisher exited before it published')), reject);
  });
  return { started, done };
}

interface Phase {
  seconds: number;
  /** CPU time of this process (the bridge or the pass-through; the publisher runs elsewhere) per message. */
  cpuUsPerMessage: number;
}

/**
 * Publishes `messages` (after a fifth as many, not counted) and waits until they all arrived, timing it and
 * the CPU this process spent from the first message published (the publisher makes its payloads first: not
 * part of either side's time).
 */
async function measure(
  messages: number,
  publish: (messages: number) => Publishing,
  arrived: () => Promise<number>,
): Promise<Phase> {
  const timed = async (count: number) => {
    const target = (await arrived()) + count;
    const publishing = publish(count);
    await publishing.started;
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    await waitFor('every message stored', async () => (await arrived()) >= target, 600_000, 20);
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await publishing.done;
    return { seconds, cpuUsPerMessage: (cpu.user + cpu.system) / count };
  };
  // a first run, not counted, so that both sides are measured warm (JIT-compiled, buffers grown)
  await timed(Math.ceil(messages / 5));
  return timed(messages);
}

const ratioRow = (name: string, value: number, baseline: { name: string; value: number }): BenchRow => ({
  name,
  value,
  unit: 'metrics/s',
  baseline,
  ratio: value / baseline.value,
  target: '>= 0.6 of pass-through',
  pass: value / baseline.value >= 0.6,
});

/**
 * Sparkplug ingest end to end (Mosquitto → bridge → JetStream) beside a pass-through that moves the same MQTT
 * messages into JetStream unread (same MQTT session settings, PubAck before PUBACK, same NATS client options),
 * in the same run, at QoS 1 and at QoS 0 (the Sparkplug specification's choice for data). The publisher is a
 * separate process. The bridge also keeps each message on the AUDIT stream, so it makes two JetStream writes per
 * message to the pass-through's one.
 */
export async function benchSparkplugIngest(messages: number, metricsPerMessage: number): Promise<BenchRow[]> {
  const [nats, broker] = await Promise.all([startNats(), startMosquitto()]);
  const nc = await connect({ servers: nats.url, ...NATS_CLIENT_TUNING }); // as the workers connect
  try {
    const jsm = await jetstreamManager(nc);
    const log = createLogger('bench', 'warn');
    for (const s of fabricStreams()) await ensureStream(jsm, s, log);
    await ensureStream(
      jsm,
      { name: 'PASS', subjects: ['pass.>'], maxAgeMs: 3_600_000, maxBytes: 1024 ** 3, replicas: 1 },
      log,
    );
    const cpu = cpuPath(ndataPayloads(messages, metricsPerMessage));
    const publish = (topic: string, qos: 0 | 1) => (count: number) =>
      publishFromChild(broker.url, topic, qos, count, metricsPerMessage);

    const phases: { qos: 0 | 1; pass: Phase; bridge: Phase }[] = [];
    // the bridge's own publisher (one inbox, one timer): nats.js's js.publish costs 2.5 times the CPU per message
    const passPublisher = new PubAckPublisher(nc);
    for (const qos of [1, 0] as const) {
      let passed = 0;
      const pass = await connectMqttIngest(
        { mqttUrl: broker.url, mqttClientId: `bench-pass-${qos}`, receiveMaximum: 64 },
        log,
        async (_topic, payload) => {
          await passPublisher.publish('pass.sparkplug', payload);
          passed++;
        },
      );
      await pass.subscribeAsync(`spBv1.0/pass${qos}/#`, { qos: 1 });
      const passPhase = await measure(
        messages,
        publish(`spBv1.0/pass${qos}/NDATA/gw`, qos),
        async () => passed,
      );
      await pass.endAsync();

      const before = (await jsm.streams.info('RAW')).state.messages;
      const { rt } = await runWorker(ingestSparkplugModule, {
        env: {
          NATS_URL: nats.url,
          MQTT_URL: broker.url,
          BUSWAY_LOG_LEVEL: 'warn',
          BUSWAY_GROUPS: `bench${qos}`,
          BUSWAY_MQTT_CLIENT_ID: `bench-bridge-${qos}`,
        },
        signals: false,
      });
      const bridgePhase = await measure(
        messages,
        publish(`spBv1.0/bench${qos}/NDATA/gw`, qos),
        async () => (await jsm.streams.info('RAW')).state.messages - before,
      );
      await rt.stop();
      phases.push({ qos, pass: passPhase, bridge: bridgePhase });
    }

    const metrics = messages * metricsPerMessage;
    const rows: BenchRow[] = [];
    for (const { qos, pass, bridge } of phases) {
      const baseline = { name: `MQTT → JetStream pass-through, QoS ${qos}`, value: metrics / pass.seconds };
      rows.push(
        ratioRow(
          `Sparkplug ingest metrics/s, QoS ${qos} (${metricsPerMessage} metrics per NDATA, end to end)`,
          metrics / bridge.seconds,
          baseline,
        ),
        {
          name: `CPU per message of the bridge process, QoS ${qos} (ratio: pass-through's / bridge's)`,
          value: bridge.cpuUsPerMessage,
          unit: 'µs',
          baseline: { name: 'pass-through process', value: pass.cpuUsPerMessage },
          ratio: pass.cpuUsPerMessage / bridge.cpuUsPerMessage,
        },
      );
    }
    const best = Math.max(...phases.map((p) => metrics / p.bridge.seconds));
    rows.push(
      {
        name: 'bridge CPU path alone (NDATA bytes to SampleBatch bytes), one core',
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
        name: 'Sparkplug ingest metrics/s, end to end, absolute (best QoS)',
        value: best,
        unit: 'metrics/s',
        target: '>= 200k metrics/s per core (machine-dependent: compare the pass-through)',
        pass: best >= 200_000,
      },
    );
    return rows;
  } finally {
    await nc.close();
    await Promise.all([nats.dispose(), broker.dispose()]);
  }
}
