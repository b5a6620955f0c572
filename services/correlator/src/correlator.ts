import { Redis } from 'ioredis';
import { Streams } from '@busway/proto';
import { RegistryClient } from '@busway/registry';
import { ConfigError, type RunningWorker, type WorkerRuntime } from '@busway/runtime';
import type { CorrelatorConfig } from './config.js';
import { CorrelatorMetrics } from './metrics.js';
import { startPartition, type RunningPartition } from './partition-runner.js';
import { ownedPartitions } from './partitioning.js';
import { loadRules } from './rules.js';
import { Topology } from './topology.js';

/**
 * The correlator: the partitions this replica owns (every `replicas`-th of `partitionCount`), each ordering
 * its NORM input by event time onto ORDERED and correlating it into incidents, with checkpoints in Redis.
 */
export async function startCorrelator(rt: WorkerRuntime, config: CorrelatorConfig): Promise<RunningWorker> {
  const rules = loadRules(config.rulesFile);
  let registry: RegistryClient;
  try {
    registry = await RegistryClient.connect(config.redisUrl, config.site);
  } catch (err) {
    throw new ConfigError(
      `cannot reach the asset registry in Redis at ${config.redisUrl}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  rt.metrics.reportRegistryVersion(() => registry.registry.version);
  let topology = new Topology(registry.registry);
  registry.onChange((r) => {
    topology = new Topology(r);
    rt.log.info({ registryVersion: r.version }, 'registry reloaded');
  });
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  const metrics = new CorrelatorMetrics(rt.metrics.registry);
  const owned = ownedPartitions(config.partitionCount, config.replicas, config.replicaIndex);
  metrics.partitions.set(owned.length);
  await warnWithoutMapping(rt, config);
  rt.log.info(
    { rules: rules.rules.map((r) => r.name), partitions: owned, partitionCount: config.partitionCount },
    owned.length ? 'correlating' : 'this replica owns no partition (replicas > partitionCount)',
  );
  const partitions: RunningPartition[] = [];
  for (const p of owned)
    partitions.push(await startPartition({ rt, config, rules, topology: () => topology, redis, metrics }, p));
  return {
    async stop() {
      await Promise.all(partitions.map((p) => p.stop()));
      redis.disconnect();
      await registry.close();
    },
  };
}

/** With several partitions, NORM samples on unpartitioned subjects mean the server lacks the mapping. */
async function warnWithoutMapping(rt: WorkerRuntime, config: CorrelatorConfig): Promise<void> {
  if (config.partitionCount === 1) return;
  try {
    const info = await rt.jsm.streams.info(Streams.Norm.name, { subjects_filter: 'norm.v1.samples.*.*.*.*' });
    const unmapped = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    if (unmapped > 0)
      rt.log.error(
        { unmapped, partitionCount: config.partitionCount },
        'NORM holds samples without a partition suffix: the nats-server subject mapping is missing (see natsPartitionConfig)',
      );
  } catch (err) {
    rt.log.warn({ err: (err as Error).message }, 'could not check the subject mapping');
  }
}
