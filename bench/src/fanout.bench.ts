// Fan-out and egress throughput: each stage drains a backlog preloaded into its input stream, on its own
// nats-server, beside a JetStream pass-through of the same shape measured in the same run.
// Run alone: `node bench/dist/fanout.bench.js [--quick]`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { JsMsg } from '@nats-io/jetstream';
import { busway, EventTypes, timeNsFromMs, unsSubject } from '@busway/proto';
import {
  ACK,
  ConsumerConfigSchema,
  ensureConsumer,
  fabricHeaders,
  runWorker,
  startConsumeLoop,
  type WorkerModule,
  type WorkerRuntime,
} from '@busway/runtime';
import { egressMqttModule, durableOf as mqttDurable } from '@busway/egress-mqtt';
import { egressOtlpModule, durableOf as otlpDurable } from '@busway/egress-otlp';
import { egressWebhookModule, durableOf as webhookDurable } from '@busway/egress-webhook';
import { fanoutModule } from '@busway/fanout';
import { startMosquitto, startNats, startRedis, waitFor, type TestServer } from '@busway/testkit';
import type { BenchRow } from './normalizer.bench.js';

const METRICS = ['power.active', 'temperature.coolant.return', 'flow.coolant', 'current.l1'];

function sampleOf(i: number, t: number): busway.v1.ISample {
  const rack = `rack-${i % 64}`;
  return {
    pointId: `bench:${i % 4096}`,
    path: { site: 'bench', hall: 'h1', row: `r${i % 8}`, rack, assetClass: 'pdu', asset: `pdu-${i % 512}` },
    metric: METRICS[i % METRICS.length] as string,
    doubleValue: 1000 + (i % 997),
    unit: 'W',
    eventTimeNs: timeNsFromMs(t + i),
    quality: busway.v1.Quality.QUALITY_GOOD,
  };
}

/** Publishes `count` messages built by `make`, 512 PubAcks awaited at a time. */
async function preload(
  rt: WorkerRuntime,
  count: number,
  make: (i: number) => [string, Uint8Array],
): Promise<void> {
  for (let i = 0; i < count; i += 512) {
    await Promise.all(
      Array.from({ length: Math.min(512, count - i) }, (_, k) => {
        const [subject, data] = make(i + k);
        const id = `pre-${i + k}`;
        return rt.js.publish(subject, data, {
          headers: fabricHeaders({ type: EventTypes.SampleBatch, source: '/bench', id }),
          msgID: id,
        });
      }),
    );
  }
}

/**
 * Seconds until the worker has settled `messages` messages and its durable consumer has nothing pending or
 * unacknowledged. Progress is read from the worker's own counter (in this process): polling consumer info
 * while it drains slows the server's deliveries on nats-server < 2.9.15 (it recomputes num_pending of a
 * wildcard-filtered consumer on every info, nats-io/nats-server#3877), which made the pulls trickle in a few
 * messages at a time and the egress rates about ten times too low. The server only confirms the end.
 */
async function drainSeconds(
  rt: WorkerRuntime,
  admin: WorkerRuntime,
  stream: string,
  durable: string,
  started: number,
  messages: number,
): Promise<number> {
  const settled = async () =>
    (await rt.metrics.messages.get()).values
      .filter((v) => v.labels.outcome === 'ack' || v.labels.outcome === 'dead-letter')
      .reduce((n, v) => n + v.value, 0);
  await waitFor(
    `${durable} settled ${messages} messages`,
    async () => (await settled()) >= messages,
    600_000,
    10,
  );
  await waitFor(
    `${durable} drained`,
    async () => {
      const c = await admin.jsm.consumers.info(stream, durable);
      return c.num_pending === 0 && c.num_ack_pending === 0;
    },
    600_000,
    20,
  );
  return (performance.now() - started) / 1000;
}

/** A worker module run against a backlog: samples/s from the moment it is ready until its consumer is drained. */
async function drainRate<S extends WorkerModule['configSchema']>(
  mod: WorkerModule<S>,
  env: Record<string, string>,
  stream: string,
  durable: string,
  samples: number,
  load: (rt: WorkerRuntime) => Promise<void>,
): Promise<number> {
  // a first runtime provisions and preloads; the worker starts only once the backlog is stored
  const loader = await runWorker(mod, { env: { ...env, BUSWAY_PROVISION: 'true' }, signals: false });
  await loader.worker.stop();
  await load(loader.rt);
  const messages = (await loader.rt.jsm.consumers.info(stream, durable)).num_pending;
  const { rt } = await runWorker(mod, { env, signals: false });
  const started = performance.now(); // from the worker ready: connecting and provisioning are not throughput
  const seconds = await drainSeconds(rt, loader.rt, stream, durable, started, messages);
  await Promise.all([rt.stop(), loader.rt.stop()]);
  return samples / seconds;
}

const httpSink = async (): Promise<{ url: string; server: Server }> => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
};

export async function benchFanout(opts: {
  batches: number;
  egressMessages: number;
  normalizerRate?: number;
}): Promise<BenchRow[]> {
  const samples = opts.batches * 256;
  const batchOf = (b: number) =>
    busway.v1.SampleBatch.encode({
      samples: Array.from({ length: 256 }, (_, k) => sampleOf(b * 256 + k, 1_800_000_000_000)),
    }).finish();
  const rows: BenchRow[] = [];
  const base = { BUSWAY_LOG_LEVEL: 'warn', BUSWAY_CONFIG: '', BUSWAY_SITE: 'bench' };
  let nats: TestServer | undefined;
  let redis: TestServer | undefined;
  let broker: TestServer | undefined;
  const sink = await httpSink();
  try {
    // 1. pass-through: ORDERED batch → one JetStream publish per sample on its UNS subject, PubAcks, then ack
    nats = await startNats();
    redis = await startRedis();
    const passEnv = { ...base, NATS_URL: nats.url, REDIS_URL: redis.url };
    const passModule: WorkerModule<typeof fanoutModule.configSchema> = {
      ...fanoutModule,
      name: 'bench-pass-through',
      consumers: () => [],
      start: async (rt, config) => {
        await ensureConsumer(rt.jsm, {
          stream: 'ORDERED',
          durable: 'pass',
          filterSubject: 'ordered.v1.samples.>',
          maxAckPending: config.maxAckPending,
          ackWaitMs: 30_000,
          maxDeliver: 5,
        });
        const loop = await startConsumeLoop({
          stage: 'bench',
          js: rt.js,
          stream: 'ORDERED',
          durable: 'pass',
          config: ConsumerConfigSchema.parse({}),
          metrics: rt.metrics,
          log: rt.log,
          handle: async (batch: JsMsg[]) => {
            const acks: Promise<unknown>[] = [];
            for (const m of batch)
              for (const s of busway.v1.SampleBatch.decode(m.data).samples) {
                const id = `${s.pointId}@${s.eventTimeNs?.toString()}`;
                acks.push(
                  rt.publisher.publish(
                    unsSubject(s.path ?? {}, s.metric ?? ''),
                    busway.v1.SampleBatch.encode({ samples: [s] }).finish(),
                    { msgID: id },
                  ),
                );
              }
            await Promise.all(acks);
            return batch.map(() => ACK);
          },
        });
        return { stop: () => loop.stop() };
      },
    };
    const passRate = await drainRate(passModule, passEnv, 'ORDERED', 'pass', samples, (rt) =>
      preload(rt, opts.batches, (b) => ['ordered.v1.samples.bench.h1.r1.rack-1', batchOf(b)]),
    );
    await Promise.all([nats.dispose(), redis.dispose()]);

    // 2. fan-out: the same backlog through the real worker (UNS JetStream writes + Redis last values)
    nats = await startNats();
    redis = await startRedis();
    const fanoutRate = await drainRate(
      fanoutModule,
      { ...base, NATS_URL: nats.url, REDIS_URL: redis.url },
      'ORDERED',
      'fanout-samples',
      samples,
      (rt) => preload(rt, opts.batches, (b) => ['ordered.v1.samples.bench.h1.r1.rack-1', batchOf(b)]),
    );
    await Promise.all([nats.dispose(), redis.dispose()]);
    rows.push({
      name: `fan-out samples/s (ORDERED batches of 256 → one UNS message per sample, stored, + Redis last values), ${samples} samples`,
      value: fanoutRate,
      unit: 'samples/s',
      baseline: { name: 'JetStream pass-through of the same shape', value: passRate },
      ratio: fanoutRate / passRate,
    });
    if (opts.normalizerRate !== undefined)
      rows.push({
        name: 'fan-out samples/s vs the normalizer process rate measured in this run',
        value: fanoutRate,
        unit: 'samples/s',
        baseline: { name: 'normalizer process through NATS', value: opts.normalizerRate },
        ratio: fanoutRate / opts.normalizerRate,
        target: '>= 1.0 (fan-out keeps up)',
        pass: fanoutRate >= opts.normalizerRate,
      });

    // 3. egress, each from a backlog of one-sample UNS messages
    const unsLoad = (rt: WorkerRuntime) =>
      preload(rt, opts.egressMessages, (i) => {
        const s = sampleOf(i, 1_800_000_000_000);
        return [
          unsSubject(s.path ?? {}, s.metric ?? ''),
          busway.v1.SampleBatch.encode({ samples: [s] }).finish(),
        ];
      });
    const egress = async (name: string, run: (env: Record<string, string>) => Promise<number>) => {
      nats = await startNats();
      const rate = await run({ ...base, NATS_URL: nats.url });
      await nats.dispose();
      rows.push({
        name,
        value: rate,
        unit: 'samples/s',
        baseline: { name: 'fan-out, this run', value: fanoutRate },
        ratio: rate / fanoutRate,
      });
    };
    broker = await startMosquitto();
    const mqttUrl = broker.url;
    await egress('egress-mqtt samples/s (UNS-style topics, QoS 1, ack after PUBACK) to Mosquitto', (env) =>
      drainRate(
        egressMqttModule,
        {
          ...env,
          MQTT_URL: mqttUrl,
          BUSWAY_MAPPINGS: JSON.stringify([{ name: 'uns', subjects: ['uns.v1.>'], style: 'uns' }]),
        },
        'UNS',
        mqttDurable('uns', 'uns.v1.>'),
        opts.egressMessages,
        unsLoad,
      ),
    );
    await egress(
      'egress-otlp samples/s (OTLP/HTTP protobuf, one export per batch of 256) to a local HTTP sink',
      (env) =>
        drainRate(
          egressOtlpModule,
          { ...env, BUSWAY_REGISTRY: 'false', BUSWAY_OTLP_METRICS_URL: `${sink.url}/v1/metrics` },
          'UNS',
          otlpDurable('uns.v1.>'),
          opts.egressMessages,
          unsLoad,
        ),
    );
    await egress(
      'egress-webhook samples/s (CloudEvents batches of 100, 8 POSTs in flight) to a local HTTP sink',
      (env) =>
        drainRate(
          egressWebhookModule,
          {
            ...env,
            BUSWAY_ENDPOINTS: JSON.stringify([
              { id: 'sink', url: sink.url, subjects: ['uns.v1.>'], batchSize: 100, concurrency: 8 },
            ]),
          },
          'UNS',
          webhookDurable('sink', 'uns.v1.>'),
          opts.egressMessages,
          unsLoad,
        ),
    );
    return rows;
  } finally {
    sink.server.close();
    await Promise.all(
      [nats?.dispose(), redis?.dispose(), broker?.dispose()].map((p) => p?.catch(() => undefined)),
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const rows = await benchFanout({ batches: quick ? 40 : 400, egressMessages: quick ? 4000 : 40_000 });
  for (const r of rows)
    process.stdout.write(
      `${r.name}: ${Math.round(r.value)} ${r.unit}${r.baseline ? ` (${r.baseline.name}: ${Math.round(r.baseline.value)}, ratio ${r.ratio?.toFixed(2)})` : ''}\n`,
    );
}
