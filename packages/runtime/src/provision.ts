import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Logger } from 'pino';

/** A stream as Busway declares it: the rest of StreamConfig keeps the server's defaults. */
export interface StreamSpec {
  name: string;
  subjects: readonly string[];
  /** @default 24 h */
  maxAgeMs?: number;
  /** @default 1 GiB */
  maxBytes?: number;
  /** Window in which a repeated Nats-Msg-Id is dropped. @default 2 min */
  duplicateWindowMs?: number;
  /** @default 1 (3 in production clusters) */
  replicas?: number;
  /** @default file */
  storage?: 'file' | 'memory';
  /** Direct get (reads by subject and sequence served by any replica), for history reads. @default false */
  allowDirect?: boolean;
}

/** A durable pull consumer with the stage's backpressure limits. */
export interface ConsumerSpec {
  stream: string;
  durable: string;
  filterSubject?: string;
  maxAckPending: number;
  ackWaitMs: number;
  maxDeliver: number;
}

const HOUR_MS = 3_600_000;

function streamConfig(spec: StreamSpec): Partial<StreamConfig> & { name: string } {
  return {
    name: spec.name,
    subjects: [...spec.subjects],
    retention: RetentionPolicy.Limits,
    storage: spec.storage === 'memory' ? StorageType.Memory : StorageType.File,
    max_age: nanos(spec.maxAgeMs ?? 24 * HOUR_MS),
    max_bytes: spec.maxBytes ?? 1024 ** 3,
    duplicate_window: nanos(spec.duplicateWindowMs ?? 120_000),
    num_replicas: spec.replicas ?? 1,
    ...(spec.allowDirect ? { allow_direct: true } : {}),
  };
}

function isNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.status === 404;
}

/** Creates the stream, or brings an existing one to the spec. Safe to run any number of times. */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec, log?: Logger): Promise<void> {
  const cfg = streamConfig(spec);
  try {
    await jsm.streams.info(spec.name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.streams.add(cfg);
    log?.info({ stream: spec.name }, 'stream created');
    return;
  }
  const { name, storage: _immutable, ...mutable } = cfg;
  await jsm.streams.update(name, mutable);
}

/** Creates the durable consumer, or updates its limits. Safe to run any number of times. */
export async function ensureConsumer(jsm: JetStreamManager, spec: ConsumerSpec, log?: Logger): Promise<void> {
  const cfg: Partial<ConsumerConfig> = {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(spec.ackWaitMs),
    max_ack_pending: spec.maxAckPending,
    max_deliver: spec.maxDeliver,
    ...(spec.filterSubject ? { filter_subject: spec.filterSubject } : {}),
  };
  try {
    await jsm.consumers.info(spec.stream, spec.durable);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.consumers.add(spec.stream, cfg);
    log?.info({ stream: spec.stream, consumer: spec.durable }, 'consumer created');
    return;
  }
  const { durable_name: _d, deliver_policy: _p, ack_policy: _a, ...mutable } = cfg;
  await jsm.consumers.update(spec.stream, spec.durable, mutable);
}

/** A consumer spec from a worker's consumer config: one place that maps the backpressure keys. */
export function consumerSpecOf(
  stream: string,
  durable: string,
  filterSubject: string | undefined,
  c: { maxAckPending: number; ackWaitMs: number; maxDeliver: number },
): ConsumerSpec {
  return {
    stream,
    durable,
    filterSubject,
    maxAckPending: c.maxAckPending,
    ackWaitMs: c.ackWaitMs,
    maxDeliver: c.maxDeliver,
  };
}

/**
 * Makes the durable deliver from `startSeq` again when it has already delivered past it: a consumer's
 * delivery point cannot be moved, so it is deleted and created anew starting there. Only the consumer's one
 * owner may do this, after a restart, before it consumes.
 */
export async function rewindConsumer(
  jsm: JetStreamManager,
  spec: ConsumerSpec,
  startSeq: number,
): Promise<boolean> {
  const info = await jsm.consumers.info(spec.stream, spec.durable).catch((err: unknown) => {
    if (err instanceof JetStreamApiError && err.status === 404) return undefined;
    throw err;
  });
  if (info && info.delivered.stream_seq < startSeq && info.num_ack_pending === 0) return false;
  if (info) await jsm.consumers.delete(spec.stream, spec.durable);
  await jsm.consumers.add(spec.stream, {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(1, startSeq),
    ack_wait: nanos(spec.ackWaitMs),
    max_ack_pending: spec.maxAckPending,
    max_deliver: spec.maxDeliver,
    ...(spec.filterSubject ? { filter_subject: spec.filterSubject } : {}),
  });
  return true;
}

/**
 * For a consumer whose input must be read in order: when an earlier owner died holding messages unacknowledged
 * (they would come back only after the ack wait, behind later ones), delivers again from its ack floor, in
 * stream order. What was read past the floor is read again, so the owner's output must be idempotent.
 * Returns the sequence it resumes from, or undefined when nothing was held.
 */
export async function resumeFromAckFloor(
  jsm: JetStreamManager,
  spec: ConsumerSpec,
): Promise<number | undefined> {
  const info = await jsm.consumers.info(spec.stream, spec.durable);
  if (info.num_ack_pending === 0) return undefined;
  const from = info.ack_floor.stream_seq + 1;
  await rewindConsumer(jsm, spec, from);
  return from;
}
