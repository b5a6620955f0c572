// Job scheduler bridge: Slurm (slurmrestd) and Kubernetes (Pods list + watch) -> job lifecycle events
import type { WorkerModule } from '@busway/runtime';
import { startIngestScheduler } from './bridge.js';
import { IngestSchedulerConfigSchema } from './config.js';

export { IngestSchedulerConfigSchema, SlurmSourceSchema, KubeSourceSchema } from './config.js';
export type { IngestSchedulerConfig, SlurmSourceConfig, KubeSourceConfig } from './config.js';
export { expandHostlist, HostlistError, MAX_HOSTS } from './hostlist.js';
export { stepsFor, vanishedStep } from './lifecycle.js';
export type { JobView, JobRecord, JobStep, ViewPhase } from './lifecycle.js';
export { decodeSlurmJob, gpusOf, slurmJobIdOf } from './slurm-decode.js';
export { decodePod, podGpus, resourceVersionOf } from './kube-decode.js';
export { JobStore } from './job-store.js';
export { EventDelivery, eventIdOf } from './delivery.js';
export type { SchedulerSource } from './delivery.js';
export { JobTracker } from './tracker.js';
export { SlurmPoller, readJobsResponse } from './slurm-poller.js';
export { KubeWatcher } from './kube-watcher.js';
export { startIngestScheduler } from './bridge.js';

export const ingestSchedulerModule: WorkerModule<typeof IngestSchedulerConfigSchema> = {
  name: 'ingest-scheduler',
  stage: 'ingest',
  description:
    'job schedulers: Slurm (slurmrestd) and Kubernetes (pod watch) -> job lifecycle events with nodes and GPUs',
  configSchema: IngestSchedulerConfigSchema,
  consumers: () => [],
  start: startIngestScheduler,
};
