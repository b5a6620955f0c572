import { nowNs } from '@busway/proto';
import {
  ErrorCode,
  messageOf,
  PollDelivery,
  PollScheduler,
  sleep,
  type Logger,
  type PollCycle,
  type WorkerRuntime,
} from '@busway/runtime';
import { chassisReadings } from './chassis.js';
import { HttpStatusError, type RedfishClient } from './client.js';
import type { EndpointConfig } from './config.js';
import { isObject, membersOf, refOf, type Discovery } from './discovery.js';
import type { ReportPipeline } from './report-pipeline.js';
import { PROTOCOL, STAGE, WORKER, type Summaries } from './summaries.js';

interface ChassisLinks {
  id: string;
  power?: string;
  thermal?: string;
}

/** Chassis are listed again after this many cycles: nodes come and go. */
const RELIST_CYCLES = 60;

/**
 * The polling fallback of one endpoint: each cycle GETs every MetricReport (handed to the pipeline, where an unchanged
 * one is dropped by its ReportSequence) and, when configured or when the service has no TelemetryService, every
 * chassis' Power and Thermal (one SampleBatch per cycle). The next poll waits for the PubAck; a service that does not
 * answer is polled again after an exponential backoff.
 */
export class EndpointPoller {
  private readonly delivery: PollDelivery;
  private readonly schedule: PollScheduler;
  private readonly reported = new Set<string>();
  private chassis?: ChassisLinks[];
  private cycles = 0;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly endpoint: EndpointConfig,
    private readonly client: RedfishClient,
    private readonly pipeline: ReportPipeline,
    summaries: Summaries,
    private readonly signal: AbortSignal,
    private readonly log: Logger,
  ) {
    const { id, url, pollIntervalMs, maxBackoffMs } = endpoint;
    this.delivery = new PollDelivery(
      rt,
      { protocol: PROTOCOL, worker: WORKER, id, address: url, pollIntervalMs, maxBackoffMs },
      summaries,
      signal,
      log,
    );
    this.schedule = new PollScheduler(endpoint, rt.metrics, summaries, log, {
      quiet: 'Redfish service not answering polls; backing off',
      back: 'Redfish service answering polls again',
    });
  }

  /** Polls until the bridge stops. */
  async run(discovery: Discovery): Promise<void> {
    const { pollChassis } = this.endpoint;
    const chassis = pollChassis === 'always' || (pollChassis === 'auto' && !discovery.metricReportsPath);
    this.log.info({ reports: discovery.metricReportsPath, chassis }, 'polling Redfish');
    let scheduled = Date.now();
    while (!this.signal.aborted) {
      const started = Date.now();
      let unreachable: string | undefined;
      try {
        if (discovery.metricReportsPath) await this.pollReports(discovery.metricReportsPath);
        if (chassis && discovery.chassisPath) await this.pollChassis(discovery.chassisPath, started);
      } catch (err) {
        unreachable = messageOf(err);
        this.chassis = undefined;
      }
      this.rt.metrics.batchSeconds.observe({ stage: STAGE }, (Date.now() - started) / 1000);
      scheduled = this.schedule.next(unreachable, scheduled);
      await sleep(scheduled - Date.now(), this.signal);
    }
  }

  private async pollReports(path: string): Promise<void> {
    const wanted = this.endpoint.reportDefinitions;
    const members = membersOf(await this.client.get(path, this.signal)).filter(
      (uri) => wanted.length === 0 || wanted.includes(uri.replace(/\/+$/, '').split('/').pop() ?? ''),
    );
    for (const uri of members) {
      const res = await this.client.request('GET', uri, { signal: this.signal });
      if (res.status === 404) continue; // removed between the two GETs
      if (res.status < 200 || res.status > 299)
        throw new HttpStatusError(res.status, `GET ${uri}: HTTP ${res.status}`);
      if ((await this.pipeline.submit(res.text, 'poll', uri)) === 'stopped') return;
    }
  }

  private async pollChassis(path: string, pollMs: number): Promise<void> {
    if (!this.chassis || ++this.cycles % RELIST_CYCLES === 0) this.chassis = await this.listChassis(path);
    const ingestTimeNs = nowNs();
    const cycle: PollCycle & { original: unknown[] } = { pollMs, samples: [], faults: [], original: [] };
    for (const c of this.chassis) {
      for (const [resource, uri] of [
        ['Power', c.power],
        ['Thermal', c.thermal],
      ] as const) {
        if (!uri) continue;
        const doc = await this.client.get(uri, this.signal).catch((err: unknown) => {
          if (err instanceof HttpStatusError && err.status === 404) return (this.chassis = undefined); // gone: list again
          throw err;
        });
        if (doc === undefined) continue;
        cycle.original.push({ uri, body: doc });
        for (const r of chassisReadings(this.endpoint, c.id, resource, doc, pollMs, ingestTimeNs)) {
          if (r.sample) {
            cycle.samples.push(r.sample);
            this.reported.delete(r.metric);
          } else if (!this.reported.has(r.metric)) {
            this.reported.add(r.metric); // dead-lettered once, again only after it reads well
            cycle.faults.push({
              key: r.metric,
              subject: `${PROTOCOL}:${this.endpoint.url}${uri}`,
              detail: { endpoint: this.endpoint.id, metric: r.metric },
              reason: { code: ErrorCode.Contract, message: `${r.metric}: ${r.problem ?? 'unreadable'}` },
            });
          }
        }
      }
    }
    await this.delivery.deliver(cycle);
  }

  private async listChassis(path: string): Promise<ChassisLinks[]> {
    const out: ChassisLinks[] = [];
    for (const uri of membersOf(await this.client.get(path, this.signal))) {
      const doc = await this.client.get(uri, this.signal);
      if (!isObject(doc)) continue;
      const id =
        typeof doc.Id === 'string' && doc.Id ? doc.Id : (uri.replace(/\/+$/, '').split('/').pop() ?? uri);
      out.push({ id, power: refOf(doc.Power), thermal: refOf(doc.Thermal) });
    }
    return out;
  }
}
