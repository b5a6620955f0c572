import type { RunningWorker, WorkerRuntime } from '@busway/runtime';
import type { IngestDcgmConfig } from './config.js';
import { DCGM_FIELD_MAP } from './fields.js';
import { GpuRegistrar } from './registrar.js';
import { closeSummaries, createSummaries } from './summaries.js';
import { TargetPoller } from './target-poller.js';

/** Starts one scrape loop per target, after connecting to the registry (when GPUs are registered). */
export async function startIngestDcgm(rt: WorkerRuntime, config: IngestDcgmConfig): Promise<RunningWorker> {
  const abort = new AbortController();
  const summaries = createSummaries(rt.log);
  const registrar = config.registerGpus
    ? await GpuRegistrar.connect(config.redisUrl, config.site, config.registryTimeoutMs, rt.log)
    : undefined;
  const fields = { ...DCGM_FIELD_MAP, ...config.fields };
  const pollers = config.targets.map(
    (t) =>
      new TargetPoller(rt, t, {
        fields,
        registrar,
        maxAuditBytes: config.maxAuditBytes,
        summaries,
        signal: abort.signal,
      }),
  );
  if (pollers.length === 0) rt.log.warn('no DCGM exporters configured (targets / BUSWAY_TARGETS)');
  for (const p of pollers) p.start();
  return {
    async stop() {
      abort.abort();
      await Promise.all(pollers.map((p) => p.stopped()));
      await registrar?.close();
      closeSummaries(summaries);
    },
  };
}
