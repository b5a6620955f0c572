// One hop of the pipeline benchmark's ceiling, run as its own process: consumes a stream with a stage's
// consumer settings and republishes every message's bytes and headers unread (PubAck before ack), or only
// acknowledges them (a branch reader). `node passthrough-worker.js '<HopOptions JSON>'`, config from env.
import type { JsMsg } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import {
  ACK,
  ConsumerConfigSchema,
  loadConfig,
  RuntimeConfigSchema,
  startConsumeLoop,
  WorkerRuntime,
} from '@busway/runtime';

export interface HopOptions {
  /** Worker name and metric `stage` label, e.g. pass-normalize. */
  name: string;
  stream: string;
  durable: string;
  /** Input subject prefix replaced by `toPrefix` on the way out (`pass.raw.` → `pass.norm.`). */
  fromPrefix: string;
  /** Output subject prefix; absent: acknowledge only (reads like a branch consumer, writes nothing). */
  toPrefix?: string;
  /** Samples in each message, for `busway_samples_total` (the hop never decodes a payload). */
  samplesPerMessage: number;
}

const HopConfigSchema = RuntimeConfigSchema.extend(ConsumerConfigSchema.shape);

/** A copy of the input's headers, Nats-Msg-Id left to the publish (derived from the input's stream sequence). */
function copyHeaders(msg: JsMsg) {
  const h = headers();
  for (const key of msg.headers?.keys() ?? [])
    if (key !== 'Nats-Msg-Id') for (const v of msg.headers?.values(key) ?? []) h.append(key, v);
  return h;
}

async function main(opts: HopOptions): Promise<void> {
  const config = loadConfig(HopConfigSchema, { worker: opts.name });
  const rt = await WorkerRuntime.start(opts.name, config);
  const stage = opts.name;
  const loop = await startConsumeLoop({
    stage,
    js: rt.js,
    stream: opts.stream,
    durable: opts.durable,
    config,
    metrics: rt.metrics,
    log: rt.log,
    handle: async (batch) => {
      const to = opts.toPrefix;
      if (to !== undefined)
        await Promise.all(
          batch.map((m) =>
            rt.publisher.publish(to + m.subject.slice(opts.fromPrefix.length), m.data, {
              headers: copyHeaders(m),
              msgID: `${opts.stream}:${m.seq}`,
            }),
          ),
        );
      rt.metrics.samples.inc({ stage, direction: 'out' }, batch.length * opts.samplesPerMessage);
      return batch.map(() => ACK);
    },
  });
  rt.onStop(() => loop.stop());
  rt.setReady(true);
  rt.stopOnSignals();
}

await main(JSON.parse(process.argv[2] ?? '{}') as HopOptions);
