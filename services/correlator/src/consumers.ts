// The durable consumers of each partition (rewindConsumer, in the runtime, moves one back to where a checkpoint
// says replay starts).
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
