import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import {
  ingestSparkplugModule,
  NodeState,
  sparkplugDecodeModule,
  SparkplugTranscoder,
} from '@busway/ingest-sparkplug';
import { busway, nowNs, SlabPool } from '@busway/proto';
import {
  connectMqttIngest,
  ConsumerConfigSchema,
  consumerSpecOf,
  createLogger,
  ensureConsumer,
  ensureStream,
  fabricStreams,
  loadConfig,
  NATS_CLIENT_TUNING,
  PubAckPublisher,
  RuntimeConfigSchema,
  runWorker,
  WorkerRuntime,
} from '@busway/runtime';
import { startMosquitto, startNats, waitFor } from '@busway/testkit';
import type { BenchRow } from './normalizer.bench.js';
import { ndataPayloads } from './sparkplug-payloads.js';
import { startPassHop } from './passthrough-loop.js';

/**
 * The decode stage's CPU path alone on one core, as it reads an NDATA: its bytes straight to SampleBatch bytes
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
    slabs.release(out.data); // as the decode stage does once the batch is stored
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
  /** CPU time of this process (the workers or the pass-through; the publisher runs elsewhere) per message. */
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

/** CPU and time of `run` until `done` holds, from `run`'s start: a stage draining a backlog. */
async function drainTimed(
  messages: number,
  run: () => Promise<unknown>,
  done: () => Promise<boolean>,
): Promise<Phase> {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await run();
  await waitFor('the backlog drained', done, 600_000, 20);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { seconds, cpuUsPerMessage: (cpu.user + cpu.system) / messages };
}

/**
 * The Sparkplug host beside pass-throughs measured in the same run with the same payloads (the publisher is a
 * separate process), at QoS 1 and at QoS 0 (the Sparkplug specification's choice for data):
 * - the bridge (Mosquitto → AUDIT, the one MQTT session, which cannot be scaled out) against an MQTT →
 *   JetStream pass-through with the same MQTT session settings, PubAck before PUBACK and NATS client;
 * - the decode stage (AUDIT → RAW, scaled by Sparkplug group) draining the bridge's backlog, against a
 *   consume-and-republish pass-through with the same consumer settings;
 * - the whole host in one process (bridge and decode stage sharing one core) against the MQTT pass-through.
 */
export async function benchSparkplugIngest(messages: number, metricsPerMessage: number): Promise<BenchRow[]> {
  const [nats, broker] = await Promise.all([startNats(), startMosquitto()]);
  const nc = await connect({ servers: nats.url, ...NATS_CLIENT_TUNING }); // as the workers connect
  const stopping: (() => Promise<void>)[] = [];
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
    const env = { NATS_URL: nats.url, MQTT_URL: broker.url, BUSWAY_LOG_LEVEL: 'warn' };
    const stored = (stream: string) => async () => (await jsm.streams.info(stream)).state.messages;
    const start = async (
      mod: typeof ingestSparkplugModule | typeof sparkplugDecodeModule,
      vars: Record<string, string>,
    ) => {
      const { rt } = await runWorker(mod as typeof ingestSparkplugModule, {
        env: { ...env, ...vars },
        signals: false,
      });
      return () => rt.stop();
    };
    const since = async (stream: string) => {
      const before = await stored(stream)();
      return async () => (await stored(stream)()) - before;
    };

    const phases: { qos: 0 | 1; pass: Phase; bridge: Phase; host: Phase }[] = [];
    // the workers' own publisher (one inbox, one timer): nats.js's js.publish costs 2.5 times the CPU per message
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

      // the bridge alone: its messages wait on AUDIT for the decode stage measured below
      let stop = await start(ingestSparkplugModule, {
        BUSWAY_GROUPS: `bench${qos}`,
        BUSWAY_MQTT_CLIENT_ID: `bench-bridge-${qos}`,
      });
      const bridgePhase = await measure(
        messages,
        publish(`spBv1.0/bench${qos}/NDATA/gw`, qos),
        await since('AUDIT'),
      );
      await stop();

      // the whole host on one core: bridge and decode stage in this process, until the samples are on RAW
      const group = `host${qos}`;
      stop = await start(ingestSparkplugModule, {
        BUSWAY_GROUPS: group,
        BUSWAY_MQTT_CLIENT_ID: `bench-host-${qos}`,
      });
      stopping.push(stop);
      stopping.push(
        await start(sparkplugDecodeModule, {
          BUSWAY_GROUPS: group,
          BUSWAY_MQTT_CLIENT_ID: `bench-dec-${qos}`,
        }),
      );
      const hostPhase = await measure(
        messages,
        publish(`spBv1.0/${group}/NDATA/gw`, qos),
        await since('RAW'),
      );
      for (const s of stopping.splice(0)) await s();
      phases.push({ qos, pass: passPhase, bridge: bridgePhase, host: hostPhase });
    }

    // the decode stage drains what the bridge stored (a fifth more than counted: the warm-up): QoS 1's group
    // first, not counted, so both it and the pass-through run warm; then the pass-through on that same group
    const backlog = Math.ceil(messages / 5) + messages;
    let rawNow = await since('RAW');
    let stop = await start(sparkplugDecodeModule, { BUSWAY_GROUPS: 'bench1' });
    await waitFor('the warm-up decoded', async () => (await rawNow()) >= backlog, 600_000, 20);
    await stop();
    const hopConfig = loadConfig(RuntimeConfigSchema.extend(ConsumerConfigSchema.shape), {
      env,
      worker: 'bench-pass-decode',
    });
    const hop = {
      name: 'pass-decode',
      stream: 'AUDIT',
      durable: 'bench-pass-decode',
      fromPrefix: 'audit.v1.',
      toPrefix: 'pass.decode.',
      samplesPerMessage: metricsPerMessage,
    };
    // the decode stage's consumer settings (its batch size)
    const hopSettings = { ...hopConfig, batchSize: sparkplugDecodeModule.configSchema.parse({}).batchSize };
    await ensureConsumer(
      jsm,
      consumerSpecOf('AUDIT', hop.durable, 'audit.v1.sparkplug.bench1.*', hopSettings),
      log,
    );
    const hopRt = await WorkerRuntime.start(hop.name, hopSettings);
    const passOut = await since('PASS');
    let loop: { stop(): Promise<void> } | undefined;
    const passDecode = await drainTimed(
      backlog,
      async () => (loop = await startPassHop(hopRt, hopSettings, hop)),
      async () => (await passOut()) >= backlog,
    );
    await loop?.stop();
    await hopRt.stop();
    rawNow = await since('RAW');
    const decode = await drainTimed(
      backlog,
      async () => (stop = await start(sparkplugDecodeModule, { BUSWAY_GROUPS: 'bench0' })),
      async () => (await rawNow()) >= backlog,
    );
    await stop();

    const metrics = messages * metricsPerMessage;
    const rows: BenchRow[] = [];
    const decodeUsPerMessage = (1e6 * metricsPerMessage) / cpu.metricsPerS;
    for (const { qos, pass, bridge, host } of phases) {
      const baseline = { name: `MQTT → JetStream pass-through, QoS ${qos}`, value: metrics / pass.seconds };
      rows.push(
        ratioRow(
          `Sparkplug bridge metrics/s, QoS ${qos} (${metricsPerMessage} metrics per NDATA, MQTT → AUDIT)`,
          metrics / bridge.seconds,
          baseline,
        ),
        {
          name: `Sparkplug host on one core (bridge + decode stage in one process), QoS ${qos}, MQTT → RAW`,
          value: metrics / host.seconds,
          unit: 'metrics/s',
          baseline,
          ratio: pass.seconds / host.seconds,
        },
        {
          // any host receives and stores each message as the pass-through does, and decodes it: with the decoding
          // counted at its CPU path alone (no consume, publish or ack), this bounds its CPU ratio (the rows below);
          // its throughput ratio only where the CPU is what limits it (not at QoS 1, which waits on acks)
          name: `ceiling of any host decoding on the same core, QoS ${qos}: pass-through CPU per message / (that + decode CPU path alone), computed`,
          value: pass.cpuUsPerMessage / (pass.cpuUsPerMessage + decodeUsPerMessage),
          unit: 'x',
        },
        ...[
          { who: 'the bridge', phase: bridge },
          { who: 'the whole host (bridge + decode stage)', phase: host },
        ].map(({ who, phase }) => ({
          name: `CPU per message of ${who}, QoS ${qos} (ratio: pass-through's / its)`,
          value: phase.cpuUsPerMessage,
          unit: 'µs',
          baseline: { name: 'pass-through process', value: pass.cpuUsPerMessage },
          ratio: pass.cpuUsPerMessage / phase.cpuUsPerMessage,
        })),
      );
    }
    const decodeRate = (backlog * metricsPerMessage) / decode.seconds;
    rows.push(
      {
        name: "Sparkplug decode stage metrics/s, one core (AUDIT → RAW, draining the bridge's backlog)",
        value: decodeRate,
        unit: 'metrics/s',
        baseline: {
          name: 'AUDIT → JetStream consume-and-republish pass-through',
          value: (backlog * metricsPerMessage) / passDecode.seconds,
        },
        ratio: passDecode.seconds / decode.seconds,
        target: '>= 200k metrics/s per core',
        pass: decodeRate >= 200_000,
      },
      {
        name: 'decode stage CPU path alone (NDATA bytes to SampleBatch bytes), one core',
        value: cpu.metricsPerS,
        unit: 'metrics/s',
        target: '>= 200k metrics/s per core',
        pass: cpu.metricsPerS >= 200_000,
      },
      {
        name: 'decode CPU path alone per NDATA (ratio: pass-through CPU per message, QoS 1 / it)',
        value: decodeUsPerMessage,
        unit: 'µs',
        baseline: {
          name: 'pass-through process, QoS 1',
          value: phases[0]?.pass.cpuUsPerMessage ?? Number.NaN,
        },
        ratio: (phases[0]?.pass.cpuUsPerMessage ?? Number.NaN) / decodeUsPerMessage,
      },
      {
        name: 'bytes the decode stage writes to JetStream per byte it reads',
        value: cpu.bytesOut / cpu.bytesIn,
        unit: 'x',
      },
    );
    return rows;
  } finally {
    for (const s of stopping) await s().catch(() => undefined);
    await nc.close();
    await Promise.all([nats.dispose(), broker.dispose()]);
  }
}
