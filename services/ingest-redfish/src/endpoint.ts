import { backoffMs, messageOf, sleep, type Logger, type WorkerRuntime } from '@busway/runtime';
import { HttpStatusError, RedfishClient } from './client.js';
import type { EndpointConfig, IngestRedfishConfig } from './config.js';
import { discover, type Discovery } from './discovery.js';
import { EndpointPoller } from './poller.js';
import type { PushListener } from './push-listener.js';
import { ReportPipeline } from './report-pipeline.js';
import { SseReader, type StreamEnd } from './sse.js';
import { PushSubscription } from './subscription.js';
import { STAGE, type Summaries } from './summaries.js';

const DEFAULT_SSE_URI = '/redfish/v1/EventService/SSE';
const DEFINITIONS = '/redfish/v1/TelemetryService/MetricReportDefinitions';

/** The way an endpoint's reports are being read right now. */
export type ActiveMode = 'sse' | 'push' | 'poll';

/**
 * One Redfish service in its own loop: discover what it offers, then read its reports by SSE (reconnecting with
 * Last-Event-ID), by a push subscription, or by polling, as configured (`auto`: SSE, else push when the bridge
 * listens, else polling). Failures back off exponentially up to maxBackoffMs; a dead or slow service delays only
 * its own loop.
 */
export class EndpointBridge {
  readonly client: RedfishClient;
  readonly pipeline: ReportPipeline;
  readonly sse: SseReader;
  private readonly poller: EndpointPoller;
  private readonly subscription: PushSubscription;
  private readonly log: Logger;
  private loop?: Promise<void>;
  private failures = 0;
  private sseFilter = true;
  private sseUnsupported = false;
  /** How reports are being read now (undefined until the service was reached). */
  mode?: ActiveMode;

  constructor(
    private readonly rt: WorkerRuntime,
    readonly endpoint: EndpointConfig,
    config: IngestRedfishConfig,
    ca: Buffer | undefined,
    private readonly listener: PushListener | undefined,
    private readonly summaries: Summaries,
    private readonly signal: AbortSignal,
  ) {
    this.log = rt.log.child({ endpoint: endpoint.id });
    this.client = new RedfishClient(endpoint, ca, config.maxReportBytes, this.log);
    this.pipeline = new ReportPipeline(rt, endpoint, config.maxBufferBytes, summaries, signal);
    this.sse = new SseReader(
      rt,
      endpoint,
      this.client,
      this.pipeline,
      config.maxReportBytes,
      summaries,
      this.log,
    );
    this.poller = new EndpointPoller(rt, endpoint, this.client, this.pipeline, summaries, signal, this.log);
    this.subscription = new PushSubscription(this.client, endpoint, this.log);
  }

  start(): void {
    this.log.info(
      { url: this.endpoint.url, auth: this.endpoint.auth, mode: this.endpoint.mode },
      'reading Redfish service',
    );
    this.loop = this.run();
  }

  /** After the bridge's abort: ends the loop, deletes the subscription, stores what is held, logs out. */
  async stop(): Promise<void> {
    await this.loop;
    await this.subscription.delete();
    await this.pipeline.stop();
    await this.client.close();
  }

  private async run(): Promise<void> {
    let discovery: Discovery | undefined;
    while (!this.signal.aborted) {
      try {
        discovery ??= await discover(this.client, this.signal, this.log);
        this.pipeline.definitionUnits = discovery.definitionUnits;
        const mode = this.choose(discovery);
        if (mode !== this.mode) this.log.info({ mode }, `reading metric reports by ${mode}`);
        this.mode = mode;
        if (mode === 'sse') await this.readStream(discovery);
        else if (mode === 'push') await this.push(discovery);
        else await this.poller.run(discovery);
      } catch (err) {
        if (this.signal.aborted) break;
        this.failures++;
        discovery = undefined; // the service may have changed (a firmware update, a reboot): ask again
        this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'connect-failed' });
        this.summaries.failures.add(this.endpoint.id);
        const waitMs = backoffMs(this.failures, 1000, this.endpoint.maxBackoffMs);
        if (this.failures === 1)
          this.log.warn({ err: messageOf(err), waitMs }, 'Redfish service failing; retrying with backoff');
        await sleep(waitMs, this.signal);
      }
    }
  }

  private choose(d: Discovery): ActiveMode {
    const { mode } = this.endpoint;
    if (mode !== 'auto') return mode;
    if (d.sseUri && !this.sseUnsupported) return 'sse';
    if (this.listener && d.subscriptionsPath) return 'push';
    return 'poll';
  }

  /** The `$filter` for the stream: metric reports only, or only the configured definitions'. */
  private filter(): string | undefined {
    if (!this.sseFilter) return undefined;
    const defs = this.endpoint.reportDefinitions;
    if (defs.length === 0) return 'EventFormatType eq MetricReport';
    return defs.map((id) => `MetricReportDefinition eq '${DEFINITIONS}/${id}'`).join(' or ');
  }

  private async readStream(d: Discovery): Promise<void> {
    const end: StreamEnd = await this.sse.read(d.sseUri ?? DEFAULT_SSE_URI, this.filter(), this.signal);
    if (end.kind === 'filter-refused') {
      this.sseFilter = false;
      this.log.info(
        { status: end.status },
        'the service refuses $filter; reading the whole stream and skipping other events',
      );
      return;
    }
    if (end.kind === 'unsupported') {
      if (this.endpoint.mode === 'sse') throw new HttpStatusError(end.status, `SSE: HTTP ${end.status}`);
      this.sseUnsupported = true;
      this.log.info({ status: end.status }, 'the service has no usable SSE; falling back');
      return;
    }
    if (this.signal.aborted) return;
    this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'sse-reconnect' });
    // a stream that brought events was healthy: reconnect at once (or after the service's retry:)
    this.failures = end.events > 0 ? 0 : this.failures + 1;
    const waitMs =
      this.failures === 0
        ? (this.sse.retryMs ?? 100)
        : backoffMs(this.failures, 1000, this.endpoint.maxBackoffMs);
    this.log.info(
      { events: end.events, err: end.error, lastEventId: this.sse.lastEventId, waitMs },
      'Redfish SSE stream ended; reconnecting',
    );
    await sleep(waitMs, this.signal);
  }

  private async push(d: Discovery): Promise<void> {
    if (!this.listener) throw new HttpStatusError(0, 'mode push needs the listener (pushPort)');
    if (!d.subscriptionsPath) throw new HttpStatusError(404, 'the service has no EventService Subscriptions');
    const destination = this.listener.route(this.endpoint.id, (body) =>
      this.pipeline.submit(body, 'push', '/push', true),
    );
    await this.subscription.create(d.subscriptionsPath, destination, this.signal);
    this.failures = 0;
    // a BMC reboot or a reset of its event service drops subscriptions: check, and make it again
    while (!this.signal.aborted) {
      await sleep(this.endpoint.pollIntervalMs, this.signal);
      if (this.signal.aborted) return;
      if (!(await this.subscription.alive(this.signal))) {
        this.log.warn('the push subscription is gone; creating it again');
        return;
      }
    }
  }
}
