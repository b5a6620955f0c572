import type { ConsumerInfo } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { StageMetrics } from './metrics.js';

export interface ConsumerLagOptions {
  stream: string;
  consumer: string;
  /** Asks the server for the consumer's state: one `$JS.API.CONSUMER.INFO` request. */
  info: () => Promise<ConsumerInfo>;
  metrics: StageMetrics;
  log: Logger;
  /** Time between two samples; 0 turns sampling off. @default 5000 */
  intervalMs?: number;
}

export interface ConsumerLagSampler {
  /** Samples once now (also what the timer does). */
  sample(): Promise<void>;
  stop(): void;
}

/**
 * Samples a durable consumer's backlog from the server (num_pending, num_ack_pending, num_redelivered,
 * num_waiting) into gauges labelled by stream and consumer. One small request per interval per consumer, and
 * never two at once, so the cost stays bounded however many messages flow; a failed request only logs.
 */
export function startConsumerLag(opts: ConsumerLagOptions): ConsumerLagSampler {
  const labels = { stream: opts.stream, consumer: opts.consumer };
  const { metrics } = opts;
  let running: Promise<void> | undefined;
  const sample = (): Promise<void> =>
    (running ??= (async () => {
      try {
        const info = await opts.info();
        metrics.consumerPending.set(labels, info.num_pending);
        metrics.consumerAckPending.set(labels, info.num_ack_pending);
        metrics.consumerRedelivered.set(labels, info.num_redelivered);
        metrics.consumerWaiting.set(labels, info.num_waiting);
      } catch (err) {
        // NATS away or the consumer deleted: the gauges keep their last value, the pull loop reports the cause
        opts.log.debug({ err: (err as Error).message, ...labels }, 'consumer info failed');
      } finally {
        running = undefined;
      }
    })());
  const intervalMs = opts.intervalMs ?? 5000;
  const timer = intervalMs > 0 ? setInterval(() => void sample(), intervalMs) : undefined;
  timer?.unref();
  if (timer) void sample();
  return {
    sample,
    stop: () => clearInterval(timer),
  };
}
