import { busway, nowNs, timeNsFromMs, Long } from '@busway/proto';
import {
  DecodeError,
  type Logger,
  messageOf,
  PollDelivery,
  type PollFault,
  PollScheduler,
  reasonOf,
  runPollLoop,
  type WorkerRuntime,
} from '@busway/runtime';
import type { TargetConfig } from './config.js';
import { parseExposition, type ParseProblem } from './exposition.js';
import type { FieldMapping } from './fields.js';
import type { GpuRegistrar } from './registrar.js';
import { mapExposition, type ScrapeStamp } from './samples.js';
import { HttpStatusError, scrape } from './scrape.js';
import type { ScrapeSummaries } from './summaries.js';

export const STAGE = 'ingest';
export const WORKER = 'ingest-dcgm';

/** What one scrape of one target produced, held until JetStream has all of it. */
interface Cycle {
  pollMs: number;
  byHost: Map<string, busway.v1.ISample[]>;
  faults: PollFault[];
  original: unknown[];
  /** Set when the scrape got no exposition: the loop backs off. */
  unreachable?: string;
}

export interface TargetPollerDeps {
  fields: Record<string, FieldMapping>;
  registrar?: GpuRegistrar;
  maxAuditBytes: number;
  summaries: ScrapeSummaries;
  signal: AbortSignal;
}

/**
 * Scrapes one exporter in its own loop: GET the exposition, parse it strictly, map DCGM fields to samples,
 * let the registry learn new GPUs, then publish the dead letters and the AUDIT copy, and one SampleBatch per
 * node (`raw.v1.samples.dcgm.<node>`, Nats-Msg-Id `dcgm:<node>@<scrape ms>`), waiting for every PubAck
 * before the next scrape: one scrape in hand at most while JetStream is slow or down. An endpoint that does
 * not answer gets QUALITY_BAD samples for the points it served before, and backs off.
 */
export class TargetPoller {
  private readonly log: Logger;
  private readonly targetDelivery: PollDelivery;
  private readonly hostDeliveries = new Map<string, PollDelivery>();
  private readonly schedule: PollScheduler;
  /** Fault keys already dead-lettered; a key that does not fault in a scrape that read may be reported again. */
  private reported = new Set<string>();
  private readonly lastCounters = new Map<string, number>();
  /** Every point served so far, by node, with its unit: bad samples when the endpoint goes quiet. */
  private readonly known = new Map<string, Map<string, string>>();
  private readonly warnedFields = new Set<string>();
  private loop?: Promise<void>;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly target: TargetConfig,
    private readonly deps: TargetPollerDeps,
  ) {
    this.log = rt.log.child({ target: target.id });
    this.targetDelivery = this.deliveryFor(target.id);
    this.schedule = new PollScheduler(target, rt.metrics, deps.summaries, this.log, {
      quiet: 'DCGM exporter not answering; backing off',
      back: 'DCGM exporter answering again',
    });
  }

  start(): void {
    this.log.info({ url: this.target.url }, 'scraping DCGM exporter');
    this.loop = this.run();
  }

  async stopped(): Promise<void> {
    await this.loop;
  }

  private deliveryFor(id: string): PollDelivery {
    const { url, pollIntervalMs, maxBackoffMs } = this.target;
    return new PollDelivery(
      this.rt,
      { protocol: 'dcgm', worker: WORKER, id, address: url, pollIntervalMs, maxBackoffMs },
      this.deps.summaries,
      this.deps.signal,
      this.log,
    );
  }

  private run(): Promise<void> {
    return runPollLoop<Cycle>({
      signal: this.deps.signal,
      schedule: this.schedule,
      poll: (started) => this.poll(started),
      failed: (started, err) => ({
        pollMs: started,
        byHost: this.badSamples(started, 'read-failed'),
        faults: [],
        original: [],
        unreachable: messageOf(err),
      }),
      deliver: (cycle) => this.deliver(cycle),
    });
  }

  /** Dead letters and the AUDIT copy first, then each node's batch; false when the bridge stopped first. */
  private async deliver(cycle: Cycle): Promise<boolean> {
    const head = { pollMs: cycle.pollMs, samples: [], faults: cycle.faults, original: cycle.original };
    if (!(await this.targetDelivery.deliver(head))) return false;
    for (const [host, samples] of cycle.byHost) {
      let delivery = this.hostDeliveries.get(host);
      if (!delivery) this.hostDeliveries.set(host, (delivery = this.deliveryFor(host)));
      if (!(await delivery.deliver({ pollMs: cycle.pollMs, samples, faults: [] }))) return false;
    }
    return true;
  }

  private async poll(pollMs: number): Promise<Cycle> {
    const cycle: Cycle = { pollMs, byHost: new Map(), faults: [], original: [] };
    let body: string;
    try {
      const res = await scrape(this.target, this.deps.signal);
      body = res.body;
      cycle.original.push(this.auditOf(res.status, res.contentType, body));
    } catch (err) {
      cycle.unreachable = messageOf(err);
      const flag = err instanceof DecodeError ? 'decode-error' : 'read-failed';
      cycle.byHost = this.badSamples(pollMs, flag);
      const key =
        err instanceof HttpStatusError
          ? `http/${err.status}`
          : err instanceof DecodeError
            ? 'too-large'
            : undefined;
      if (key)
        this.fault(
          cycle,
          key,
          `dcgm:${this.target.url}`,
          { url: this.target.url },
          err instanceof HttpStatusError ? { code: 'http-error', message: err.message } : reasonOf(err),
        );
      return cycle;
    }
    const exposition = parseExposition(body);
    const faultKeys = new Set<string>();
    this.parseFaults(cycle, exposition.problems, faultKeys);
    const stamp: ScrapeStamp = {
      targetId: this.target.id,
      url: this.target.url,
      node: this.target.node,
      pollMs,
      ingestTimeNs: nowNs(),
    };
    const mapped = mapExposition(exposition, stamp, this.deps.fields, this.lastCounters);
    for (const f of mapped.faults) {
      faultKeys.add(f.key);
      this.fault(cycle, f.key, f.origin, { target: this.target.id, ...f.detail }, f.reason);
    }
    this.reported = faultKeys; // a fault absent from a scrape that read is over: report it again if it returns
    this.countUnmapped(mapped.unmapped);
    for (const [host, samples] of mapped.byHost) {
      const points = this.known.get(host) ?? new Map<string, string>();
      for (const s of samples) points.set(s.pointId ?? '', s.unit ?? '');
      this.known.set(host, points);
    }
    cycle.byHost = mapped.byHost;
    if (this.deps.registrar && mapped.gpus.length > 0) await this.deps.registrar.register(mapped.gpus);
    return cycle;
  }

  private parseFaults(cycle: Cycle, problems: ParseProblem[], keys: Set<string>): void {
    const byCode = new Map<string, ParseProblem[]>();
    for (const p of problems) byCode.set(p.code, [...(byCode.get(p.code) ?? []), p]);
    for (const [code, list] of byCode) {
      const key = `parse/${code}`;
      keys.add(key);
      const first = list[0] as ParseProblem;
      this.fault(
        cycle,
        key,
        `dcgm:${this.target.url}`,
        { url: this.target.url, problems: list.slice(0, 20) },
        {
          code: 'decode-error',
          message: `${list.length} line(s) of the exposition at ${this.target.url} do not parse (${code}); line ${first.line}: ${first.reason}`,
        },
      );
    }
    if (problems.length > 0)
      this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'malformed-line' }, problems.length);
  }

  private fault(
    cycle: Cycle,
    key: string,
    origin: string,
    detail: Record<string, unknown>,
    reason: PollFault['reason'],
  ): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    cycle.faults.push({ key, subject: origin, detail: { target: this.target.id, ...detail }, reason });
  }

  private countUnmapped(unmapped: Map<string, number>): void {
    for (const [field, n] of unmapped) {
      this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'unmapped-field' }, n);
      if (this.warnedFields.has(field)) continue;
      this.warnedFields.add(field);
      this.log.info(
        { field },
        'no taxonomy mapping for this field: left out (map it with the fields setting)',
      );
    }
  }

  /** QUALITY_BAD samples, flagged with why, for every point the endpoint served before. */
  private badSamples(pollMs: number, flag: string): Map<string, busway.v1.ISample[]> {
    const out = new Map<string, busway.v1.ISample[]>();
    const ingestTimeNs = nowNs();
    for (const [host, points] of this.known)
      out.set(
        host,
        [...points].map(([pointId, unit]) => ({
          pointId,
          unit,
          eventTimeNs: timeNsFromMs(pollMs),
          clockSource: busway.v1.ClockSource.CLOCK_SOURCE_INGEST,
          ingestTimeNs,
          quality: busway.v1.Quality.QUALITY_BAD,
          flags: [flag],
          source: { protocol: 'dcgm', address: this.target.url, sourceId: host },
          sequence: Long.fromNumber(pollMs, true),
        })),
      );
    return out;
  }

  private auditOf(status: number, contentType: string, body: string): Record<string, unknown> {
    const limit = this.deps.maxAuditBytes;
    const bytes = Buffer.byteLength(body);
    if (bytes <= limit) return { url: this.target.url, status, contentType, body };
    return { url: this.target.url, status, contentType, bytes, truncated: true, body: body.slice(0, limit) };
  }
}
