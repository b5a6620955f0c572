import type { ServerResponse } from 'node:http';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { Counter, Gauge, type Registry } from 'prom-client';
import { busway, rfc3339Nano } from '@busway/proto';
import { ApiError } from './errors.js';

export interface SseOptions {
  maxClients: number;
  heartbeatMs: number;
  maxQueuedEvents: number;
  slowClientMs: number;
}

const QUALITY = ['unspecified', 'good', 'uncertain', 'bad', 'stale'];

/** One UNS message (one point's samples) as SSE `sample` events, one line of JSON each. */
export function sampleEvents(subject: string, data: Uint8Array): string[] {
  let samples: busway.v1.ISample[];
  try {
    samples = busway.v1.SampleBatch.decode(data).samples;
  } catch {
    return []; // not fabric data (someone published by hand on uns.v1.*): not forwarded
  }
  return samples.map((s) => {
    const value =
      s.doubleValue ??
      (s.intValue != null ? Number(s.intValue.toString()) : undefined) ??
      s.boolValue ??
      s.stringValue ??
      null;
    const json = JSON.stringify({
      path: subject,
      value,
      unit: s.unit || undefined,
      time: rfc3339Nano(s.eventTimeNs),
      quality: QUALITY[s.quality ?? 0] ?? 'unspecified',
    });
    return `event: sample\ndata: ${json}\n\n`;
  });
}

/**
 * Live UNS values as Server-Sent Events, one NATS subscription per client. Each client has a bounded queue:
 * while its socket does not drain, new events are dropped and counted (the client is told how many with a
 * `dropped` event once it catches up), and a client whose queue stays full for `slowClientMs` is disconnected.
 * Memory per client never exceeds `maxQueuedEvents` events.
 */
export class SseHub {
  private readonly clients = new Set<(reason: string) => void>();
  private readonly gauge: Gauge;
  private readonly events: Counter<'outcome'>;
  private readonly disconnects: Counter<'reason'>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: SseOptions,
    registry: Registry,
  ) {
    this.gauge = new Gauge({
      name: 'busway_api_sse_clients',
      help: 'Open live streams',
      registers: [registry],
    });
    this.events = new Counter({
      name: 'busway_api_sse_events_total',
      help: 'Live events sent to clients, or dropped for a client that reads too slowly',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.disconnects = new Counter({
      name: 'busway_api_sse_disconnects_total',
      help: 'Live streams ended, by reason (client, slow-client, shutdown)',
      labelNames: ['reason'],
      registers: [registry],
    });
  }

  get size(): number {
    return this.clients.size;
  }

  /** Refuses (429) when every slot is taken; call before the response is hijacked. */
  admit(): void {
    if (this.clients.size >= this.opts.maxClients)
      throw new ApiError(429, 'too-many-streams', `${this.opts.maxClients} live streams are open already`, {
        'retry-after': '5',
      });
  }

  /** Streams every message on `pattern` to `res` until the client goes away or the hub closes. */
  open(res: ServerResponse, pattern: string): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no', // nginx: do not buffer the stream
    });
    res.write(`retry: 5000\n: subscribed to ${pattern}\n\n`);
    const queue: string[] = [];
    let writable = true;
    let dropped = 0;
    let fullSinceMs = 0;

    const end = (reason: string) => {
      if (!this.clients.delete(end)) return;
      sub.unsubscribe();
      clearInterval(heartbeat);
      this.disconnects.inc({ reason });
      this.gauge.set(this.clients.size);
      if (!res.writableEnded) res.end();
    };
    const flush = () => {
      while (writable && queue.length > 0) {
        writable = res.write(queue.shift() as string);
        this.events.inc({ outcome: 'sent' });
      }
      if (writable && dropped > 0) {
        writable = res.write(`event: dropped\ndata: ${JSON.stringify({ dropped })}\n\n`);
        dropped = 0;
      }
      if (queue.length < this.opts.maxQueuedEvents) fullSinceMs = 0;
    };
    const enqueue = (event: string) => {
      if (queue.length >= this.opts.maxQueuedEvents) {
        dropped++;
        this.events.inc({ outcome: 'dropped' });
        fullSinceMs ||= Date.now();
        if (Date.now() - fullSinceMs >= this.opts.slowClientMs) end('slow-client');
        return;
      }
      queue.push(event);
      flush();
    };
    res.on('drain', () => {
      writable = true;
      flush();
    });
    res.on('close', () => end('client'));
    const heartbeat = setInterval(() => {
      if (writable && queue.length === 0) writable = res.write(`: heartbeat ${new Date().toISOString()}\n\n`);
      else if (fullSinceMs && Date.now() - fullSinceMs >= this.opts.slowClientMs) end('slow-client');
    }, this.opts.heartbeatMs);
    heartbeat.unref();
    this.clients.add(end);
    this.gauge.set(this.clients.size);
    // a callback subscription: messages are handed over at once, so the bounded queue is the only buffer
    const sub: Subscription = this.nc.subscribe(pattern, {
      callback: (err, msg) => {
        if (err) return end('subscription-error');
        for (const event of sampleEvents(msg.subject, msg.data)) enqueue(event);
      },
    });
  }

  /** Ends every stream (on shutdown), so the HTTP server can close. */
  closeAll(): void {
    for (const end of [...this.clients]) end('shutdown');
  }
}
