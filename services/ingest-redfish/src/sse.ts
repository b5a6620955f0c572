import { createParser, type ParseError } from 'eventsource-parser';
import type { Logger, WorkerRuntime } from '@busway/runtime';
import { HttpStatusError, type RedfishClient } from './client.js';
import type { EndpointConfig } from './config.js';
import type { ReportPipeline } from './report-pipeline.js';
import { STAGE, type Summaries } from './summaries.js';

/** How one SSE connection ended. */
export type StreamEnd =
  | { kind: 'ended'; events: number; error?: string }
  | { kind: 'unsupported'; status: number }
  | { kind: 'filter-refused'; status: number };

/** Statuses with which a service says it has no SSE at that URI. */
const UNSUPPORTED = new Set([404, 405, 501]);

/**
 * Reads a Redfish SSE stream (`ServerSentEventUri`): each event's data is a MetricReport handed to the pipeline.
 * The last event id is kept and sent as Last-Event-ID on the next connection, so a service that keeps its
 * recent events resends what the bridge missed. While the pipeline's buffer is full the socket is not read
 * (TCP pushes back to the service) until JetStream has caught up. A stream silent for `sseIdleTimeoutMs` is cut.
 */
export class SseReader {
  /** The id of the last event received: the Last-Event-ID of the next connection. */
  lastEventId?: string;
  /** The reconnect delay the service asked for with `retry:`. */
  retryMs?: number;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly endpoint: EndpointConfig,
    private readonly client: RedfishClient,
    private readonly pipeline: ReportPipeline,
    private readonly maxReportBytes: number,
    private readonly summaries: Summaries,
    private readonly log: Logger,
  ) {}

  /** Dead-letters an event over maxReportBytes: its id when known, else the id it came after. */
  private tooLarge(uri: string, eventId: string | undefined, chars: number | undefined): void {
    const after = this.lastEventId ?? '(none)';
    void this.pipeline.reject(
      {
        eventId: eventId ?? null,
        afterEventId: this.lastEventId ?? null,
        chars: chars ?? null,
        limitBytes: this.maxReportBytes,
      },
      uri,
      {
        code: 'report-too-large',
        message: `SSE event ${eventId ?? `after id ${after}`} is over maxReportBytes (${this.maxReportBytes})`,
      },
    );
  }

  /** One connection: resolves when it ends (the service closed it, it failed, it went idle, or stop). */
  async read(uri: string, filter: string | undefined, signal: AbortSignal): Promise<StreamEnd> {
    const path = filter === undefined ? uri : `${uri}?$filter=${encodeURIComponent(filter)}`;
    const headers = this.lastEventId === undefined ? {} : { 'Last-Event-ID': this.lastEventId };
    const res = await this.client.stream(path, headers, signal);
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      res.resume();
      if (filter !== undefined && status === 400) return { kind: 'filter-refused', status };
      if (UNSUPPORTED.has(status)) return { kind: 'unsupported', status };
      throw new HttpStatusError(status, `SSE ${uri}: HTTP ${status}`);
    }
    const type = String(res.headers['content-type'] ?? '');
    if (!type.startsWith('text/event-stream')) {
      res.destroy();
      throw new HttpStatusError(415, `SSE ${uri}: Content-Type ${type || 'missing'}, not text/event-stream`);
    }
    this.log.info({ uri, filter, lastEventId: this.lastEventId }, 'Redfish SSE stream open');
    return new Promise<StreamEnd>((resolve) => {
      let events = 0;
      let paused = false;
      let idle: NodeJS.Timeout | undefined;
      let failure: string | undefined;
      const armIdle = () => {
        clearTimeout(idle);
        idle = paused
          ? undefined
          : setTimeout(
              () => res.destroy(new Error(`no data for ${this.endpoint.sseIdleTimeoutMs} ms`)),
              this.endpoint.sseIdleTimeoutMs,
            );
      };
      const pause = () => {
        if (paused) return;
        paused = true;
        res.pause();
        clearTimeout(idle);
        this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'source-paused' });
        this.summaries.paused.add(this.endpoint.id);
        void this.pipeline.drained().then(() => {
          paused = false;
          if (!res.destroyed) res.resume();
          armIdle();
        });
      };
      const parser = createParser({
        maxBufferSize: this.maxReportBytes,
        onEvent: (e) => {
          if (e.id !== undefined) this.lastEventId = e.id;
          if (e.data.trim() === '') return;
          events++;
          // the parser bounds what it buffers across chunks; an event that came in one chunk is checked here
          if (e.data.length > this.maxReportBytes) return this.tooLarge(uri, e.id, e.data.length);
          void this.pipeline.submit(e.data, 'sse', uri); // settles in the background, in order
          if (this.pipeline.full) pause();
        },
        onRetry: (ms) => (this.retryMs = ms),
        onError: (err: ParseError) => {
          if (err.type !== 'max-buffer-size-exceeded') return; // unknown fields: ignored, as EventSource does
          failure = `an event over ${this.maxReportBytes} bytes`;
          this.tooLarge(uri, undefined, undefined);
          // resuming after the last id would get the same event again: start afresh (a gap shows what was lost)
          this.lastEventId = undefined;
          res.destroy();
        },
      });
      const finish = (err?: Error) => {
        clearTimeout(idle);
        signal.removeEventListener('abort', abort);
        resolve({ kind: 'ended', events, error: failure ?? err?.message });
      };
      const abort = () => res.destroy();
      signal.addEventListener('abort', abort, { once: true });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        armIdle();
        if (failure === undefined) parser.feed(chunk); // a parser past its size limit refuses more
      });
      res.once('error', finish);
      res.once('close', () => finish());
      armIdle();
    });
  }
}
