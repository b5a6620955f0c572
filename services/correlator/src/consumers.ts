// The durable consumers of each partition, and moving one back to where a checkpoint says replay starts.
import { AckPolicy, DeliverPolicy, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { Streams } from '@busway/proto';
import { consumerSpecOf, type ConsumerSpec } from '@busway/runtime';
import type { CorrelatorConfig } from './config.js';
import { partitionFilter } from './partitioning.js';

/**
 * The consumers of one partition. One partition: a single durable on all of NORM (samples and events), as
 * before partitioning existed. Several: one on the partition's samples and one on every event (each
 * partition needs every job and grid event), since a 2.9 server takes one filter subject per consumer.
 */
export function partitionConsumers(c: CorrelatorConfig, partition: number): ConsumerSpec[] {
  if (c.partitionCount === 1) return [consumerSpecOf(Streams.Norm.name, c.durable, 'norm.v1.>', c)];
  return [
    consumerSpecOf(
      Streams.Norm.name,
      `${c.durable}-p${partition}`,
      partitionFilter(partition, c.partitionCount),
      c,
    ),
    consumerSpecOf(Streams.Norm.name, `${c.durable}-p${partition}-events`, 'norm.v1.events.>', c),
  ];
}

/** Every partition's consumers: provisioning creates them all, so no partition's input is missed. */
export function allConsumers(c: CorrelatorConfig): ConsumerSpec[] {
  return Array.from({ length: c.partitionCount }, (_, p) => partitionConsumers(c, p)).flat();
}

/**
 * Makes the durable deliver from `startSeq` again when it has already delivered past it: a consumer's
 * delivery point cannot be moved, so it is deleted and created anew starting there. Only the partition's
 * owner does this, after a restart, before it consumes.
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
