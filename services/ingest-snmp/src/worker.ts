import type { RunningWorker, WorkerRuntime } from '@busway/runtime';
import type { IngestSnmpConfig } from './config.js';
import { SnmpPoller } from './poller.js';
import { closeSummaries, createSummaries } from './summaries.js';
import { TrapReceiver } from './trap-receiver.js';

/** Starts the trap receiver (when trapPort is set) and a poll loop per target. */
export async function startIngestSnmp(rt: WorkerRuntime, config: IngestSnmpConfig): Promise<RunningWorker> {
  const summaries = createSummaries(rt.log);
  const traps = config.trapPort > 0 ? new TrapReceiver(rt, config, summaries) : undefined;
  await traps?.start();
  const poller = new SnmpPoller(rt, config, summaries);
  poller.start();
  if (config.targets.length === 0 && !traps)
    rt.log.warn(
      'nothing to do: no SNMP targets (targets / BUSWAY_TARGETS) and no trap port (BUSWAY_TRAP_PORT)',
    );
  return {
    stop: async () => {
      await Promise.all([traps?.stop(), poller.stop()]);
      closeSummaries(summaries);
    },
  };
}
