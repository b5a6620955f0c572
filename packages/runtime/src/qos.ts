// QoS tiers: alarms, incidents and commands travel apart from the analytics firehose (samples, scores), on
// streams, durable consumers, limits and a NATS connection of their own, and go first inside a worker.
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { Streams } from '@busway/proto';
import type { ConsumerConfig } from './config.js';
import { subjectCovers } from './subject-match.js';
import { connectNats, natsOptionsOf } from './nats.js';
import type { WorkerRuntime } from './worker.js';

export const QosTiers = {
  /** Alarms, incidents, supervisory commands and their results: few messages, each one matters now. */
  Control: 'control',
  /** Samples, scores, rollups: the firehose, where throughput matters more than any one message. */
  Analytics: 'analytics',
} as const;
export type QosTier = (typeof QosTiers)[keyof typeof QosTiers];

/** Streams whose messages travel on the control tier; every other stream is analytics. */
export const CONTROL_STREAMS: readonly string[] = [
  Streams.Alarms.name,
  Streams.Incidents.name,
  Streams.Control.name,
];

export function tierOfStream(stream: string): QosTier {
  return CONTROL_STREAMS.includes(stream) ? QosTiers.Control : QosTiers.Analytics;
}

/** The stream that captures every subject of a filter (`alarm.v1.ai1.>` → ALARMS); undefined when it spans streams or none. */
export function streamOfSubject(filter: string): string | undefined {
  const found = Object.values(Streams).find((s) => s.subjects.some((p) => subjectCovers(p, filter)));
  return found?.name;
}

/** Consumer limits of the control tier: small batches, few messages in hand, quick redelivery. */
export const ControlTierConfigSchema = z.object({
  /** Control-tier messages fetched per pull [BUSWAY_CONTROL_BATCH_SIZE]. @default 16 */
  controlBatchSize: z.coerce.number().int().min(1).max(10_000).default(16),
  /** Unacknowledged control-tier messages the server lets one consumer hold [BUSWAY_CONTROL_MAX_ACK_PENDING]. @default 256 */
  controlMaxAckPending: z.coerce.number().int().min(1).default(256),
  /** Redelivery timeout of a control-tier message [BUSWAY_CONTROL_ACK_WAIT_MS]. @default 10000 */
  controlAckWaitMs: z.coerce.number().int().min(1000).default(10_000),
  /** Deliveries of a control-tier message before it is dead-lettered [BUSWAY_CONTROL_MAX_DELIVER]. @default 10 */
  controlMaxDeliver: z.coerce.number().int().min(1).default(10),
  /** Redelivery delay of a control-tier message after a transient failure [BUSWAY_CONTROL_NAK_DELAY_MS]. @default 500 */
  controlNakDelayMs: z.coerce.number().int().min(0).default(500),
  /** Lifetime of a control-tier pull request [BUSWAY_CONTROL_FETCH_EXPIRES_MS]. @default 1000 */
  controlFetchExpiresMs: z.coerce.number().int().min(1000).default(1000),
});
export type ControlTierConfig = z.infer<typeof ControlTierConfigSchema>;

/** The consume-loop settings of one tier: the worker's own keys for analytics, the control* keys for control. */
export function tierConsumerConfig(c: ConsumerConfig & ControlTierConfig, tier: QosTier): ConsumerConfig {
  if (tier === QosTiers.Analytics) return c;
  return {
    batchSize: c.controlBatchSize,
    maxBytes: 0,
    maxAckPending: c.controlMaxAckPending,
    ackWaitMs: c.controlAckWaitMs,
    maxDeliver: c.controlMaxDeliver,
    fetchExpiresMs: c.controlFetchExpiresMs,
    nakDelayMs: c.controlNakDelayMs,
  };
}

/**
 * Control work goes first inside one process: analytics work asks for its turn before each batch and waits
 * while control work is in hand, at most `maxWaitMs` (analytics is delayed, never starved).
 */
export class PriorityGate {
  private controlActive = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly maxWaitMs = 1000) {}

  get controlInFlight(): number {
    return this.controlActive;
  }

  async control<T>(work: () => Promise<T>): Promise<T> {
    this.controlActive++;
    try {
      return await work();
    } finally {
      if (--this.controlActive === 0) {
        const waiting = this.waiters;
        this.waiters = [];
        for (const wake of waiting) wake();
      }
    }
  }

  /** Resolves at once when no control work is in hand, else when it is done or after maxWaitMs. */
  analyticsTurn(): Promise<void> {
    if (this.controlActive === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve();
      }, this.maxWaitMs);
      this.waiters.push(wake);
    });
  }
}

/** A NATS connection and JetStream client of the control tier alone. */
export interface TierConnection {
  nc: NatsConnection;
  js: JetStreamClient;
  close(): Promise<void>;
}

/**
 * Opens the control tier's own NATS connection (same credentials, name `busway-<worker>-control`): a flood of
 * analytics deliveries fills the runtime's connection and socket, never this one.
 */
export async function connectControlTier(rt: WorkerRuntime): Promise<TierConnection> {
  const opts = natsOptionsOf(rt.config, rt.name);
  const nc = await connectNats({ ...opts, name: `${opts.name}-control` }, rt.log.child({ tier: 'control' }));
  return {
    nc,
    js: jetstream(nc),
    close: () => nc.drain().catch(() => undefined),
  };
}
