import type { RunningWorker, WorkerRuntime } from '@busway/runtime';
import type { IngestOpenadrConfig } from './config.js';
import { EventSink } from './event-sink.js';
import { EventStore } from './event-store.js';
import { FacilityMeter } from './meter.js';
import { ProgramCache } from './programs.js';
import { STAGE } from './publish.js';
import { ReportScheduler } from './reports.js';
import { Ven } from './ven.js';
import { VtnClient } from './vtn-client.js';

/** Starts the VEN against one VTN: registration, reads, webhook, polling fallback and usage reports. */
export async function startIngestOpenadr(
  rt: WorkerRuntime,
  config: IngestOpenadrConfig,
): Promise<RunningWorker> {
  const vtnUrl = config.vtnUrl?.replace(/\/+$/, '');
  if (!vtnUrl) {
    rt.log.warn('nothing to do: no VTN (vtnUrl / BUSWAY_VTN_URL)');
    return { stop: async () => undefined };
  }
  const log = rt.log.child({ vtn: config.vtnId });
  const store = await EventStore.open(rt.js, config.stateBucket, config.vtnId, config.streamReplicas);
  const client = new VtnClient(
    {
      vtnUrl,
      timeoutMs: config.requestTimeoutMs,
      pageSize: config.pageSize,
      ...(config.clientId ? { clientId: config.clientId } : {}),
      ...(config.clientSecret ? { clientSecret: config.clientSecret } : {}),
      ...(config.tokenUrl ? { tokenUrl: config.tokenUrl } : {}),
      ...(config.scope ? { scope: config.scope } : {}),
    },
    log,
    (why) => rt.metrics.messages.inc({ stage: STAGE, outcome: `token-${why}` }),
  );
  const programs = new ProgramCache();
  const reports = config.reports
    ? new ReportScheduler(
        rt,
        config,
        client,
        store,
        new FacilityMeter(rt.js, {
          subjects:
            config.meterSubjects.length > 0 ? config.meterSubjects : [`norm.v1.samples.${config.site}.>`],
          assets: config.meterAssets,
          metric: config.meterMetric,
          lookbackMs: config.meterLookbackMs,
        }),
        log,
      )
    : undefined;
  const fetchProgram = async (id: string) => {
    // an event of a program created since the last full read: its name and units, else the id alone
    programs.update(await client.get(`/programs/${id}`).catch(() => undefined));
  };
  const sink = new EventSink(rt, { ...config, vtnUrl }, store, programs, fetchProgram, reports);
  sink.resume();
  const ven = new Ven(rt, { ...config, vtnUrl }, client, programs, sink, log);
  await ven.start();
  log.info({ vtnUrl, venName: config.venName, webhook: config.webhook }, 'OpenADR VEN started');
  return {
    stop: async () => {
      await ven.stop();
      await reports?.stop();
    },
  };
}
