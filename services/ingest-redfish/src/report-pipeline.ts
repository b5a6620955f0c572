import { createHash } from 'node:crypto';
import { context } from '@opentelemetry/api';
import { headers } from '@nats-io/transport-node';
import { busway, EventTypes, nowNs, Subjects } from '@busway/proto';
import {
  backoffMs,
  ErrorCode,
  fabricHeaders,
  Hdr,
  messageOf,
  publishDeadLetter,
  publishFabric,
  sleep,
  type DeadLetterReason,
  type Logger,
  type WorkerRuntime,
} from '@busway/runtime';
import type { EndpointConfig } from './config.js';
import { decodeReport } from './report-decoder.js';
import { SequenceTracker } from './sequence.js';
import { PROTOCOL, STAGE, WORKER, type Summaries } from './summaries.js';

/** How a report reached the bridge. */
export type Via = 'sse' | 'push' | 'poll';

/** What became of a submitted report. */
export type Settled = 'stored' | 'repeat' | 'dead-lettered' | 'skipped' | 'full' | 'stopped';

interface Item {
  id: string;
  body: string;
  bytes: number;
  origin: string;
  reason?: DeadLetterReason;
  audit: boolean;
  rejected?: Record<string, unknown>;
  samples: busway.v1.ISample[];
  reportUri: string;
  resolve: (stored: boolean) => void;
}

const encoder = new TextEncoder();
const hashOf = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

/**
 * One endpoint's reports on their way to JetStream, in arrival order, each stored before the next: its raw JSON on
 * AUDIT, a dead letter for the values (or the whole body) that cannot be read, then one SampleBatch whose
 * Nats-Msg-Id is `redfish:<endpoint>:<report>:<ReportSequence>:<digest>`, so a re-sent report is stored once.
 * Repeats are dropped and gaps counted on arrival. The buffer is bounded in bytes: SSE reading pauses past it
 * (`full`), a push is refused (`submit(..., refusable)` settles `full`), a poll waits for its report to be stored.
 */
export class ReportPipeline {
  private readonly queue: Item[] = [];
  private readonly pending = new Map<string, Promise<boolean>>();
  private readonly tracker = new SequenceTracker();
  private readonly log: Logger;
  private bytes = 0;
  private wake?: () => void;
  private drainWaiters: (() => void)[] = [];
  private stopping = false;
  private readonly loop: Promise<void>;
  /** Units by MetricDefinition URI and by MetricId, from the service's MetricDefinitions. */
  definitionUnits = new Map<string, string>();

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly endpoint: EndpointConfig,
    private readonly maxBufferBytes: number,
    private readonly summaries: Summaries,
    private readonly signal: AbortSignal,
  ) {
    this.log = rt.log.child({ endpoint: endpoint.id });
    this.loop = this.run();
  }

  /** Past the byte bound: SSE reading should pause until `drained()`. */
  get full(): boolean {
    return this.bytes >= this.maxBufferBytes;
  }

  get bufferedBytes(): number {
    return this.bytes;
  }

  /** Resolves once at most half the bound is held (or the bridge stops). */
  drained(): Promise<void> {
    if (this.bytes <= this.maxBufferBytes / 2 || this.stopping) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Takes one report body. Resolves when it is settled: stored (or dead-lettered) in JetStream, dropped as a repeat
   * or a non-telemetry event, refused because the buffer is full (only when `refusable`), or abandoned at stop.
   */
  async submit(body: string, via: Via, origin: string, refusable = false): Promise<Settled> {
    if (this.stopping) return 'stopped';
    if (refusable && this.bytes > 0 && this.bytes + body.length > this.maxBufferBytes) {
      this.count('push-refused');
      this.summaries.refused.add(this.endpoint.id);
      return 'full';
    }
    this.count('report-received');
    const decoded = decodeReport(body, {
      endpointId: this.endpoint.id,
      baseUrl: this.endpoint.url,
      units: this.endpoint.units,
      definitionUnits: this.definitionUnits,
      ingestTimeNs: nowNs(),
    });
    if (decoded.kind === 'other') {
      this.count('event-skipped');
      this.log.debug({ type: decoded.what }, 'an event that is not a metric report: skipped');
      return 'skipped';
    }
    if (decoded.kind === 'invalid') {
      const id = `${PROTOCOL}:${this.endpoint.id}:invalid:${hashOf(body)}`;
      const stored = await this.enqueue({
        id,
        body,
        origin,
        reason: decoded.reason,
        audit: false,
        samples: [],
        reportUri: origin,
      });
      return stored ? 'dead-lettered' : 'stopped';
    }
    const { reportId, sequence, fingerprint } = decoded;
    const wanted = this.endpoint.reportDefinitions;
    if (wanted.length > 0 && !wanted.includes(reportId)) {
      this.count('report-unwanted'); // a stream the service could not filter for us
      return 'skipped';
    }
    const id = `${PROTOCOL}:${this.endpoint.id}:${reportId}:${sequence ?? '-'}:${fingerprint}`;
    const verdict = this.tracker.observe(reportId, sequence, fingerprint);
    if (verdict.kind === 'repeat') {
      // a poll reads the same report until the next one is made: expected, not the service repeating itself
      this.count(via === 'poll' ? 'report-unchanged' : 'report-repeated');
      if (via !== 'poll') this.summaries.repeats.add(`${this.endpoint.id}/${reportId}`);
      const inFlight = this.pending.get(id);
      return inFlight ? ((await inFlight) ? 'repeat' : 'stopped') : 'repeat';
    }
    if (verdict.kind === 'reset') {
      this.count('sequence-reset');
      this.log.info(
        { report: reportId, from: String(verdict.from), to: String(verdict.to) },
        'ReportSequence started again (service restarted?)',
      );
    } else if (verdict.missed > 0n) {
      this.count('report-gap');
      this.count('reports-missed', Number(verdict.missed));
      this.summaries.gaps.add(`${this.endpoint.id}/${reportId}`, Number(verdict.missed));
    }
    const rejected =
      decoded.rejects.length === 0
        ? undefined
        : { report: reportId, sequence: sequence?.toString(), rejects: decoded.rejects };
    const stored = await this.enqueue({
      id,
      body,
      origin,
      audit: true,
      rejected,
      samples: decoded.samples,
      reportUri: decoded.uri,
    });
    return stored ? 'stored' : 'stopped';
  }

  /** Dead-letters input that never became a body to decode (an SSE event over the size limit). */
  async reject(note: Record<string, unknown>, origin: string, reason: DeadLetterReason): Promise<Settled> {
    const body = JSON.stringify(note);
    const id = `${PROTOCOL}:${this.endpoint.id}:rejected:${hashOf(body)}`;
    const stored = await this.enqueue({
      id,
      body,
      origin,
      reason,
      audit: false,
      samples: [],
      reportUri: origin,
    });
    return stored ? 'dead-lettered' : 'stopped';
  }

  /** Stops taking reports; resolves once what is held is stored, or at the first refused publish. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    for (const w of this.drainWaiters.splice(0)) w();
    await this.loop;
  }

  private enqueue(fields: Omit<Item, 'bytes' | 'resolve'>): Promise<boolean> {
    let resolve!: (stored: boolean) => void;
    const done = new Promise<boolean>((r) => (resolve = r));
    const item: Item = { ...fields, bytes: fields.body.length, resolve };
    this.queue.push(item);
    this.pending.set(item.id, done);
    this.bytes += item.bytes;
    this.rt.metrics.bufferBytes.inc({ stage: STAGE }, item.bytes);
    this.wake?.();
    return done;
  }

  private async run(): Promise<void> {
    for (;;) {
      const item = this.queue[0];
      if (!item) {
        if (this.stopping) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const stored = await this.deliver(item);
      this.queue.shift();
      this.settle(item, stored);
      if (!stored) {
        for (const rest of this.queue.splice(0)) this.settle(rest, false);
        return;
      }
    }
  }

  private settle(item: Item, stored: boolean): void {
    item.resolve(stored);
    this.pending.delete(item.id);
    this.bytes -= item.bytes;
    this.rt.metrics.bufferBytes.dec({ stage: STAGE }, item.bytes);
    if (this.bytes <= this.maxBufferBytes / 2) for (const w of this.drainWaiters.splice(0)) w();
  }

  /** Publishes until stored; false only when the bridge stops while JetStream refuses. */
  private async deliver(item: Item): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.publish(item);
        return true;
      } catch (err) {
        this.count('publish-failed');
        this.summaries.publishFailures.add(this.endpoint.id);
        if (this.signal.aborted) {
          this.log.warn(
            { err: messageOf(err), held: this.queue.length },
            'stopping: dropped reports JetStream did not acknowledge',
          );
          return false;
        }
        await sleep(backoffMs(attempt, 100, 5000), this.signal);
      }
    }
  }

  private async publish(item: Item): Promise<void> {
    const { id: endpointId, url } = this.endpoint;
    const source = `/${PROTOCOL}/${endpointId}`;
    if (item.reason) {
      await this.deadLetter(item.id, `${url}${item.origin}`, encoder.encode(item.body), item.reason);
      item.reason = undefined;
      return;
    }
    if (item.audit) {
      const h = fabricHeaders({
        type: EventTypes.Original,
        source,
        id: `${item.id}:original`,
        contentType: 'application/json',
      });
      await this.rt.js.publish(Subjects.audit(PROTOCOL, endpointId), encoder.encode(item.body), {
        headers: h,
        msgID: h.get(Hdr.MsgId),
      });
      item.audit = false; // stored: a retry sends only what is left
    }
    if (item.rejected) {
      const rejects = item.rejected.rejects as { reason: string }[];
      const reason = {
        code: ErrorCode.Contract,
        message: `${rejects.length} MetricValue(s) unreadable: ${rejects[0]?.reason ?? ''}`,
      };
      await this.deadLetter(
        `${item.id}:values`,
        `${url}${item.reportUri}`,
        encoder.encode(JSON.stringify(item.rejected)),
        reason,
      );
      item.rejected = undefined;
    }
    if (item.samples.length === 0) return;
    const batch = busway.v1.SampleBatch.encode({
      samples: item.samples,
      source: { protocol: PROTOCOL, address: `${url}${item.reportUri}`, sourceId: endpointId },
    }).finish();
    await publishFabric(
      this.rt.publisher,
      Subjects.rawSamples(PROTOCOL, endpointId),
      batch,
      { type: EventTypes.SampleBatch, source, id: item.id },
      context.active(),
    );
    this.rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, item.samples.length);
    this.count('published');
  }

  private async deadLetter(
    id: string,
    origin: string,
    data: Uint8Array,
    reason: DeadLetterReason,
  ): Promise<void> {
    const h = headers();
    h.set(Hdr.MsgId, id);
    await publishDeadLetter(this.rt.js, WORKER, `${PROTOCOL}:${origin}`, data, h, reason);
    this.rt.metrics.deadLetters.inc({ stage: STAGE, reason: reason.code });
    this.summaries.deadLetters.add(reason.code);
    this.log.warn({ reason: reason.message, origin }, 'dead-lettered Redfish input');
  }

  private count(outcome: string, n = 1): void {
    this.rt.metrics.messages.inc({ stage: STAGE, outcome }, n);
  }
}
