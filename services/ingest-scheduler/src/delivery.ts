import { context } from '@opentelemetry/api';
import { headers } from '@nats-io/transport-node';
import { busway, EventTypes, Long, nowNs, Subjects, timeNsFromMs } from '@busway/proto';
import {
  backoffMs,
  type DeadLetterReason,
  Hdr,
  type Logger,
  LogSummary,
  messageOf,
  publishDeadLetter,
  publishFabric,
  sleep,
  type WorkerRuntime,
} from '@busway/runtime';
import type { JobRecord, JobStep } from './lifecycle.js';

export const STAGE = 'ingest';
export const WORKER = 'ingest-scheduler';

/** The scheduler a source reads, as its events and dedup ids name it. */
export interface SchedulerSource {
  id: string;
  kind: 'slurm' | 'kubernetes';
  url: string;
  clockSource: 'ntp' | 'ptp' | 'device';
  maxBackoffMs: number;
}

/**
 * The step of each scheduler's times: slurmrestd gives epoch seconds, Kubernetes' metav1.Time RFC 3339 to the
 * second. Both truncate, so a job's true time lies within this much after the one it reports.
 */
const TIME_RESOLUTION_MS = { slurm: 1000, kubernetes: 1000 } as const;

const CLOCKS = {
  ntp: busway.v1.ClockSource.CLOCK_SOURCE_NTP,
  ptp: busway.v1.ClockSource.CLOCK_SOURCE_PTP,
  device: busway.v1.ClockSource.CLOCK_SOURCE_DEVICE,
} as const;

/** Logs of repeated trouble, one line per 10 s, shared by every source. */
export interface DeliverySummaries {
  publishFailures: LogSummary;
  deadLetters: LogSummary;
  readFailures: LogSummary;
  skippedPolls: LogSummary;
}

export function createSummaries(log: Logger): DeliverySummaries {
  return {
    publishFailures: new LogSummary(log, 'job events or state JetStream did not store (retried):'),
    deadLetters: new LogSummary(log, 'dead-lettered scheduler objects:'),
    readFailures: new LogSummary(log, 'scheduler API requests that failed:'),
    skippedPolls: new LogSummary(log, 'Slurm polls skipped because the previous one was still running:'),
  };
}

/** Dedup id of one step of one job run: `<source>:<job key>:<run>:<phase>`. */
export const eventIdOf = (source: string, key: string, run: string, step: JobStep) =>
  `${source}:${key}:${run}:${step.name}`;

/**
 * Publishes job events to `raw.v1.events.<source>`, one EventBatch of one event per message with the event's
 * dedup id as Nats-Msg-Id, and dead letters to `dlq.v1.ingest-scheduler`; each retried with backoff until
 * JetStream has it (or the bridge stops). The caller reads its API no further meanwhile: that is the
 * bridge's backpressure.
 */
export class EventDelivery {
  private readonly subject: string;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly source: SchedulerSource,
    private readonly summaries: DeliverySummaries,
    private readonly signal: AbortSignal,
    private readonly log: Logger,
  ) {
    this.subject = Subjects.rawEvents(source.id);
  }

  /** The event of one step; `sequence` orders it within the source (a resourceVersion, a last_update). */
  eventOf(key: string, record: JobRecord, step: JobStep, sequence?: number): busway.v1.IEvent {
    const timed = step.timeMs !== undefined && !step.inferred;
    return {
      id: eventIdOf(this.source.id, key, record.run, step),
      kind: busway.v1.EventKind.EVENT_KIND_JOB,
      eventTimeNs: timed ? timeNsFromMs(step.timeMs ?? 0) : nowNs(),
      // an inferred end, or a scheduler that gave no time: the bridge's clock is all there is
      clockSource: timed ? CLOCKS[this.source.clockSource] : busway.v1.ClockSource.CLOCK_SOURCE_INGEST,
      timeResolutionMs: timed ? TIME_RESOLUTION_MS[this.source.kind] : 0,
      ingestTimeNs: nowNs(),
      source: { protocol: this.source.kind, address: this.source.url, sourceId: this.source.id },
      ...(sequence !== undefined && Number.isSafeInteger(sequence) && sequence >= 0
        ? { sequence: Long.fromNumber(sequence, true) }
        : {}),
      job: {
        jobId: record.jobId,
        phase: step.phase,
        nodes: record.nodes,
        gpus: record.gpus,
        scheduler: this.source.kind,
      },
    };
  }

  /** True once JetStream has every event, in order; false when the bridge stopped first. */
  async publish(events: busway.v1.IEvent[]): Promise<boolean> {
    for (const e of events) {
      const data = busway.v1.EventBatch.encode({ events: [e] }).finish();
      const ok = await this.retry(() =>
        publishFabric(
          this.rt.publisher,
          this.subject,
          data,
          { type: EventTypes.EventBatch, source: `/${this.source.kind}/${this.source.id}`, id: e.id ?? '' },
          context.active(),
        ),
      );
      if (!ok) return false;
      this.rt.metrics.samples.inc({ stage: STAGE, direction: 'out' });
      this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'published' });
    }
    return true;
  }

  /** Dead-letters an object the bridge cannot read, keyed so that a repeat of it is stored once. */
  async deadLetter(
    key: string,
    origin: string,
    payload: unknown,
    reason: DeadLetterReason,
  ): Promise<boolean> {
    const h = headers();
    h.set(Hdr.MsgId, `${this.source.id}:${key}`);
    const data = new TextEncoder().encode(
      JSON.stringify({ object: payload, error: reason.message }).slice(0, 512 * 1024),
    );
    const ok = await this.retry(() => publishDeadLetter(this.rt.js, WORKER, origin, data, h, reason));
    if (ok) {
      this.rt.metrics.deadLetters.inc({ stage: STAGE, reason: reason.code });
      this.summaries.deadLetters.add(reason.code);
    }
    return ok;
  }

  /** Runs a JetStream write until it succeeds; false when the bridge stops first. */
  async retry(write: () => Promise<unknown>): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await write();
        return true;
      } catch (err) {
        this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'publish-failed' });
        this.summaries.publishFailures.add(this.source.id);
        if (this.signal.aborted) {
          this.log.warn(
            { err: messageOf(err) },
            'stopping with job events JetStream did not store: read again on restart',
          );
          return false;
        }
        await sleep(backoffMs(attempt, 100, this.source.maxBackoffMs), this.signal);
      }
    }
  }
}
