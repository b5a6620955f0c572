import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { EventPredicate, StreamEvent } from './filter.js';
import { ROOT } from './model.js';

interface HistoryEntry {
  id: number;
  event: StreamEvent;
  data: string;
}

interface SseClient {
  res: ServerResponse;
  predicate?: EventPredicate;
}

/** An EventDestination (v1.14) and its delivery queue. */
export interface Subscription {
  id: string;
  resource: Record<string, unknown>;
  destination: URL;
  formatType: 'Event' | 'MetricReport';
  reportDefinitions: string[];
  headers: Record<string, string>;
  retryForever: boolean;
  queue: HistoryEntry[];
  delivering: boolean;
  deleted: boolean;
}

/** One push attempt as the service made it: what the destination answered (status) or why it failed (error). */
export interface PushAttempt {
  subscription: string;
  eventId: number;
  status?: number;
  error?: string;
}

export interface EventHubOptions {
  /** Retries after a failed push (EventService DeliveryRetryAttempts). @default 3 */
  retryAttempts: number;
  /** Wait between attempts (EventService DeliveryRetryIntervalSeconds, in ms here). @default 1000 */
  retryIntervalMs: number;
  /** A destination that does not answer within this is a failed attempt. @default 5000 */
  pushTimeoutMs: number;
  /** Events kept for SSE clients that reconnect with Last-Event-ID. @default 256 */
  historyLimit: number;
  /** CA that https destinations are verified with. */
  pushCa?: string | Buffer;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The EventService's two deliveries: SSE streams (with Last-Event-ID resume) and push to EventDestinations. */
export class EventHub {
  private nextEventId = 1;
  private nextSubscriptionId = 1;
  private readonly history: HistoryEntry[] = [];
  private readonly clients = new Set<SseClient>();
  private closed = false;
  readonly subscriptions = new Map<string, Subscription>();
  /** Every push attempt, oldest first; and every SSE connection's Last-Event-ID header (undefined: none). */
  readonly pushes: PushAttempt[] = [];
  readonly sseResumes: (string | undefined)[] = [];

  constructor(private readonly opts: EventHubOptions) {}

  get streams(): number {
    return this.clients.size;
  }

  /** Answers an SSE GET: replays what came after `lastEventId`, then streams every matching event. */
  openStream(req: IncomingMessage, res: ServerResponse, predicate?: EventPredicate): void {
    const lastEventId = req.headers['last-event-id'];
    const last = typeof lastEventId === 'string' ? lastEventId : undefined;
    this.sseResumes.push(last);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream;charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
    });
    res.write(': Redfish event stream\n\n');
    const client: SseClient = { res, predicate };
    const after = last !== undefined && /^\d+$/.test(last) ? Number(last) : undefined;
    if (after !== undefined) for (const h of this.history) if (h.id > after) this.write(client, h);
    this.clients.add(client);
    const forget = () => this.clients.delete(client);
    res.on('close', forget);
    req.on('close', forget);
  }

  /** Sends an event to every stream and subscription it matches; returns its event id. */
  emit(event: StreamEvent, data: string): number {
    const entry: HistoryEntry = { id: this.nextEventId++, event, data };
    this.history.push(entry);
    while (this.history.length > this.opts.historyLimit) this.history.shift();
    for (const client of this.clients) this.write(client, entry);
    for (const sub of this.subscriptions.values()) {
      if (!matches(sub, event)) continue;
      sub.queue.push(entry);
      if (!sub.delivering) void this.deliver(sub);
    }
    return entry.id;
  }

  /** Cuts every SSE connection, as a BMC reboot or a network fault would. */
  dropStreams(): void {
    for (const c of this.clients) c.res.destroy();
    this.clients.clear();
  }

  /** Creates an EventDestination from a POST body, or returns why it cannot. */
  subscribe(body: Record<string, unknown>): Subscription | string {
    const destination = typeof body.Destination === 'string' ? safeUrl(body.Destination) : undefined;
    if (!destination || !/^https?:$/.test(destination.protocol)) return 'Destination must be an http(s) URI';
    if ((body.Protocol ?? 'Redfish') !== 'Redfish') return 'only Protocol Redfish is supported';
    const formatType = body.EventFormatType ?? 'Event';
    if (formatType !== 'Event' && formatType !== 'MetricReport')
      return 'EventFormatType must be Event or MetricReport';
    const defs = Array.isArray(body.MetricReportDefinitions) ? body.MetricReportDefinitions : [];
    const headers: Record<string, string> = {};
    if (Array.isArray(body.HttpHeaders))
      for (const h of body.HttpHeaders as unknown[])
        if (h && typeof h === 'object')
          for (const [k, v] of Object.entries(h)) if (typeof v === 'string') headers[k] = v;
    const id = String(this.nextSubscriptionId++);
    const resource: Record<string, unknown> = {
      '@odata.type': '#EventDestination.v1_14_0.EventDestination',
      '@odata.id': `${ROOT}/EventService/Subscriptions/${id}`,
      Id: id,
      Name: `Subscription ${id}`,
      Destination: destination.toString(),
      Protocol: 'Redfish',
      EventFormatType: formatType,
      SubscriptionType: 'RedfishEvent',
      Context: typeof body.Context === 'string' ? body.Context : '',
      DeliveryRetryPolicy: body.DeliveryRetryPolicy ?? 'TerminateAfterRetries',
      MetricReportDefinitions: defs,
      HttpHeaders: [], // write-only: never shown (it may carry credentials)
    };
    const sub: Subscription = {
      id,
      resource,
      destination,
      formatType,
      reportDefinitions: defs
        .map((d: unknown) => (d as { '@odata.id'?: unknown })?.['@odata.id'])
        .filter((d): d is string => typeof d === 'string'),
      headers,
      retryForever: body.DeliveryRetryPolicy === 'RetryForever',
      queue: [],
      delivering: false,
      deleted: false,
    };
    this.subscriptions.set(id, sub);
    return sub;
  }

  unsubscribe(id: string): boolean {
    const sub = this.subscriptions.get(id);
    if (!sub) return false;
    sub.deleted = true;
    sub.queue.length = 0;
    return this.subscriptions.delete(id);
  }

  close(): void {
    this.closed = true;
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    for (const id of [...this.subscriptions.keys()]) this.unsubscribe(id);
  }

  private write(client: SseClient, h: HistoryEntry): void {
    if (client.predicate && !client.predicate(h.event)) return;
    const lines = h.data.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`);
    client.res.write(`id: ${h.id}\n${lines.join('')}\n`);
  }

  /** Delivers a subscription's queue in order: each event is retried until delivered or out of attempts. */
  private async deliver(sub: Subscription): Promise<void> {
    sub.delivering = true;
    try {
      for (let entry = sub.queue[0]; entry && !sub.deleted && !this.closed; entry = sub.queue[0]) {
        for (let attempt = 0; !sub.deleted && !this.closed; attempt++) {
          if (await this.post(sub, entry)) break;
          if (!sub.retryForever && attempt >= this.opts.retryAttempts) break; // given up: the event is lost
          await sleep(this.opts.retryIntervalMs);
        }
        sub.queue.shift();
      }
    } finally {
      sub.delivering = false;
    }
  }

  private post(sub: Subscription, entry: HistoryEntry): Promise<boolean> {
    const record = (r: Omit<PushAttempt, 'subscription' | 'eventId'>) => {
      this.pushes.push({ subscription: sub.id, eventId: entry.id, ...r });
      return r.status !== undefined && r.status >= 200 && r.status < 300;
    };
    const body = Buffer.from(entry.data);
    const send = sub.destination.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (r: Omit<PushAttempt, 'subscription' | 'eventId'>) => {
        if (!settled) resolve(record(r));
        settled = true;
      };
      const req = send(
        sub.destination,
        {
          method: 'POST',
          headers: { ...sub.headers, 'Content-Type': 'application/json', 'Content-Length': body.length },
          timeout: this.opts.pushTimeoutMs,
          ca: this.opts.pushCa,
        },
        (res) => {
          res.resume();
          res.on('end', () => settle({ status: res.statusCode }));
          res.on('error', (err) => settle({ error: err.message }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer in ${this.opts.pushTimeoutMs} ms`)));
      req.on('error', (err) => settle({ error: err.message }));
      req.end(body);
    });
  }
}

function matches(sub: Subscription, event: StreamEvent): boolean {
  if (sub.formatType !== event.formatType) return false;
  if (sub.reportDefinitions.length === 0 || event.reportDefinition === undefined) return true;
  return sub.reportDefinitions.includes(event.reportDefinition);
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
