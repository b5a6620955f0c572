// Usage reports back to the VTN (POST /reports) for the events whose reportDescriptors ask for them,
// computed from the facility's normalized power once each reported interval is over.
import { backoffMs, isTransient, ownValue, type Logger, type WorkerRuntime } from '@busway/runtime';
import type { IngestOpenadrConfig } from './config.js';
import type { ActivePeriod, DecodedEvent } from './decode.js';
import type { RevisionListener } from './event-sink.js';
import type { EventStore } from './event-store.js';
import type { FacilityMeter, FacilityPower } from './meter.js';
import { STAGE } from './publish.js';
import type { ReportDescriptor } from './report-descriptor.js';
import { formatDateTime, msOf } from './time.js';
import { VtnRefused, type VtnClient } from './vtn-client.js';

/** What each supported report payload type measures and its default unit. */
const MEASURES: Record<string, { quantity: 'energy' | 'power'; defaultUnits: string }> = {
  USAGE: { quantity: 'energy', defaultUnits: 'KWH' },
  DEMAND: { quantity: 'power', defaultUnits: 'KW' },
};
const ENERGY_PER_WH: Record<string, number> = { WH: 1, KWH: 1e-3, MWH: 1e-6 };
const POWER_PER_W: Record<string, number> = { W: 1, KW: 1e-3, MW: 1e-6 };

/** One report to send: a descriptor and the intervals it covers. */
export interface PlannedReport {
  eventId: string;
  reportName: string;
  descriptor: ReportDescriptor;
  periods: (ActivePeriod & { endNs: bigint })[];
  dueMs: number;
}

/**
 * The reports an event revision asks for. Intervals are grouped `frequency` at a time (else `numIntervals`,
 * else all), from `startInterval` (-1: the first), at most `repeat` groups (-1: all); each group is
 * reported once its last interval is over. Open-ended intervals cannot be reported and are left out.
 */
export function planReports(event: DecodedEvent, delayMs: number): PlannedReport[] {
  const closed = event.periods
    .filter((p): p is ActivePeriod & { endNs: bigint } => p.endNs !== undefined)
    .sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
  const plans: PlannedReport[] = [];
  for (const d of event.reportDescriptors) {
    if (!ownValue(MEASURES, d.payloadType)) continue;
    const from = closed.slice(Math.max(d.startInterval, 0));
    const size = d.frequency > 0 ? d.frequency : d.numIntervals > 0 ? d.numIntervals : from.length;
    if (size === 0) continue;
    for (let i = 0, n = 0; i < from.length && (d.repeat < 0 || n < Math.max(d.repeat, 1)); i += size, n++) {
      const periods = from.slice(i, i + size);
      const last = periods[periods.length - 1] as ActivePeriod & { endNs: bigint };
      const first = periods[0] as ActivePeriod;
      plans.push({
        eventId: event.eventId,
        reportName: `busway:${event.eventId}:${d.payloadType}:${first.intervalId}-${last.intervalId}`,
        descriptor: d,
        periods,
        dueMs: msOf(last.endNs) + delayMs,
      });
    }
  }
  return plans;
}

const isoDuration = (ms: number) => `PT${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}S`;

/** The reportRequest body of a planned report with one value per interval. */
export function reportBody(
  plan: PlannedReport,
  values: number[],
  clientName: string,
  resourceName: string,
  units: string,
) {
  const period = (p: ActivePeriod & { endNs: bigint }) => ({
    start: formatDateTime(p.startNs),
    duration: isoDuration(msOf(p.endNs) - msOf(p.startNs)),
  });
  const first = plan.periods[0] as ActivePeriod & { endNs: bigint };
  return {
    eventID: plan.eventId,
    clientName,
    reportName: plan.reportName,
    payloadDescriptors: [
      {
        objectType: 'REPORT_PAYLOAD_DESCRIPTOR',
        payloadType: plan.descriptor.payloadType,
        readingType:
          plan.descriptor.readingType ??
          (ownValue(MEASURES, plan.descriptor.payloadType)?.quantity === 'power' ? 'MEAN' : 'DIRECT_READ'),
        units,
      },
    ],
    resources: [
      {
        resourceName,
        intervalPeriod: period(first),
        intervals: plan.periods.map((p, i) => ({
          id: p.intervalId,
          intervalPeriod: period(p),
          payloads: [{ type: plan.descriptor.payloadType, values: [values[i] as number] }],
        })),
      },
    ],
  };
}

/** The value of one interval in the descriptor's units, undefined for units it cannot express. */
export function valueOf(power: FacilityPower, payloadType: string, units: string): number | undefined {
  const measure = ownValue(MEASURES, payloadType);
  const perWh = ownValue(ENERGY_PER_WH, units);
  if (measure?.quantity === 'energy' && perWh !== undefined) return power.energyWh * perWh;
  const perW = ownValue(POWER_PER_W, units);
  if (measure?.quantity === 'power' && perW !== undefined) return power.meanW * perW;
  return undefined;
}

const MAX_ATTEMPTS = 8;

/** Keeps a timer per planned report; a new revision re-plans its event, a withdrawn event drops its plans. */
export class ReportScheduler implements RevisionListener {
  private readonly timers = new Map<string, Map<string, NodeJS.Timeout>>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly config: IngestOpenadrConfig,
    private readonly client: VtnClient,
    private readonly store: EventStore,
    private readonly meter: FacilityMeter,
    private readonly log: Logger,
  ) {}

  revised(event: DecodedEvent): void {
    this.withdrawn(event.eventId);
    const sent = new Set(this.store.get(event.eventId)?.reportsSent ?? []);
    const timers = new Map<string, NodeJS.Timeout>();
    for (const plan of planReports(event, this.config.reportDelayMs)) {
      if (sent.has(plan.reportName)) continue;
      timers.set(plan.reportName, this.at(plan, Math.max(plan.dueMs - Date.now(), 0), 1));
    }
    if (timers.size > 0) this.timers.set(event.eventId, timers);
  }

  withdrawn(eventId: string): void {
    for (const t of this.timers.get(eventId)?.values() ?? []) clearTimeout(t);
    this.timers.delete(eventId);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const id of [...this.timers.keys()]) this.withdrawn(id);
    await Promise.all([...this.running]);
  }

  private at(plan: PlannedReport, delayMs: number, attempt: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const run = this.send(plan, attempt).finally(() => this.running.delete(run));
      this.running.add(run);
    }, delayMs);
    timer.unref();
    return timer;
  }

  private async send(plan: PlannedReport, attempt: number): Promise<void> {
    if (this.stopped) return;
    const units = (
      plan.descriptor.units ??
      ownValue(MEASURES, plan.descriptor.payloadType)?.defaultUnits ??
      ''
    ).toUpperCase();
    try {
      if (await this.alreadyAtVtn(plan)) return this.markSent(plan);
      const values: number[] = [];
      for (const p of plan.periods) {
        const power = await this.meter.read(msOf(p.startNs), msOf(p.endNs));
        const value = power ? valueOf(power, plan.descriptor.payloadType, units) : undefined;
        if (value === undefined) {
          this.count(power ? 'report-unsupported' : 'report-no-data');
          this.log.warn(
            { report: plan.reportName, units, interval: p.intervalId },
            power
              ? `no ${plan.descriptor.payloadType} in ${units}: report not sent`
              : 'no facility power for the interval: report not sent',
          );
          return;
        }
        values.push(value);
      }
      const body = reportBody(plan, values, this.config.venName, this.config.reportResourceName, units);
      await this.client.request('POST', '/reports', { body });
      this.count('report-posted');
      this.log.info({ report: plan.reportName, values, units }, 'usage report posted');
      await this.markSent(plan);
    } catch (err) {
      if (err instanceof VtnRefused || attempt >= MAX_ATTEMPTS || !isTransient(err)) {
        this.count('report-failed');
        this.log.warn({ err, report: plan.reportName, attempt }, 'report not sent');
        return;
      }
      const waitMs = backoffMs(attempt, 1000, this.config.maxBackoffMs);
      this.timers.get(plan.eventId)?.set(plan.reportName, this.at(plan, waitMs, attempt + 1));
    }
  }

  /** The VTN already holds a report of this name (sent before a crash, before it was recorded). */
  private async alreadyAtVtn(plan: PlannedReport): Promise<boolean> {
    const reports = await this.client.getAll('/reports', {
      eventID: plan.eventId,
      clientName: this.config.venName,
    });
    return reports.some((r) => (r as { reportName?: unknown } | null)?.reportName === plan.reportName);
  }

  private async markSent(plan: PlannedReport): Promise<void> {
    this.timers.get(plan.eventId)?.delete(plan.reportName);
    const known = this.store.get(plan.eventId);
    if (known && !known.reportsSent.includes(plan.reportName))
      await this.store.put(plan.eventId, { ...known, reportsSent: [...known.reportsSent, plan.reportName] });
  }

  private count(outcome: string): void {
    this.rt.metrics.messages.inc({ stage: STAGE, outcome });
  }
}
