// A pass-through hop: consumes a stream with a stage's consumer settings and republishes every message's bytes
// and headers unread (PubAck before ack), or only acknowledges them (a branch reader). The benchmarks' ceiling.
import type { JsMsg } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import {
  ACK,
  startConsumeLoop,
  type ConsumeLoop,
  type ConsumerConfig,
  type WorkerRuntime,
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

/** A copy of the input's headers, Nats-Msg-Id left to the publish (derived from the input's stream sequence). */
function copyHeaders(msg: JsMsg) {
  const h = headers();
  for (const key of msg.headers?.keys() ?? [])
    if (key !== 'Nats-Msg-Id') for (const v of msg.headers?.values(key) ?? []) h.append(key, v);
  return h;
}

/** Runs the hop on `rt` until the returned loop is stopped. */
export function startPassHop(
  rt: WorkerRuntime,
  config: ConsumerConfig,
  opts: HopOptions,
): Promise<ConsumeLoop> {
  const stage = opts.name;
  return startConsumeLoop({
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
}
