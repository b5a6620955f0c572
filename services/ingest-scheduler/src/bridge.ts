import { type LogSummary, type RunningWorker, type WorkerRuntime } from '@busway/runtime';
import type { IngestSchedulerConfig } from './config.js';
import { createSummaries, EventDelivery, type SchedulerSource } from './delivery.js';
import { JobStore } from './job-store.js';
import { KubeWatcher } from './kube-watcher.js';
import { SlurmPoller } from './slurm-poller.js';
import { JobTracker } from './tracker.js';

/** Opens each source's state, then starts one loop per Slurm cluster and one watcher per Kubernetes cluster. */
export async function startIngestScheduler(
  rt: WorkerRuntime,
  config: IngestSchedulerConfig,
): Promise<RunningWorker> {
  const abort = new AbortController();
  const summaries = createSummaries(rt.log);
  const wire = async (s: SchedulerSource, emitQueued: boolean) => {
    const log = rt.log.child({ source: s.id });
    const store = await JobStore.open(rt.js, config.stateBucket, s.id, config.streamReplicas);
    const delivery = new EventDelivery(rt, s, summaries, abort.signal, log);
    const cursor = {
      get: () => store.cursor,
      set: (v: string) => delivery.retry(() => store.setCursor(v)),
    };
    return { tracker: new JobTracker(store, delivery, emitQueued), delivery, cursor };
  };
  const loops: { start(): void; stopped(): Promise<void> }[] = [];
  for (const s of config.slurm) {
    const w = await wire({ ...s, kind: 'slurm' }, s.emitQueued);
    loops.push(new SlurmPoller(rt, s, w.tracker, w.delivery, w.cursor, summaries, abort.signal));
  }
  for (const s of config.kubernetes) {
    const w = await wire({ ...s, kind: 'kubernetes' }, s.emitQueued);
    loops.push(new KubeWatcher(rt, s, w.tracker, w.delivery, w.cursor, summaries, abort.signal));
  }
  if (loops.length === 0)
    rt.log.warn('no scheduler configured (slurm / BUSWAY_SLURM, kubernetes / BUSWAY_KUBERNETES)');
  for (const l of loops) l.start();
  return {
    async stop() {
      abort.abort();
      await Promise.all(loops.map((l) => l.stopped()));
      for (const summary of Object.values(summaries) as LogSummary[]) summary.close();
    },
  };
}
