import { createHash } from 'node:crypto';
import type { QosTier } from '@busway/runtime';
import { CircuitBreaker } from './breaker.js';
import { bodyOf, type CloudEventJson } from './cloudevent.js';
import type { EndpointConfig } from './config.js';
import type { WebhookMetrics } from './metrics.js';
import { classifyStatus, type AttemptResult } from './retry.js';
import { secretKey, signatureHeaders } from './signature.js';

/** The same id on every attempt of the same events, so a receiver can drop a repeat. */
function deliveryIdOf(events: CloudEventJson[]): string {
  if (events.length === 1) return (events[0] as CloudEventJson).id;
  const h = createHash('sha256');
  for (const e of events) h.update(e.id).update('\n');
  return `batch-${h.digest('hex').slice(0, 32)}`;
}

/** POSTs events to one endpoint: signing, timeout, circuit breaker, metrics. Never throws. */
export class EndpointSender {
  readonly breaker: CircuitBreaker;
  private readonly key?: Buffer;

  constructor(
    readonly endpoint: EndpointConfig,
    private readonly metrics: WebhookMetrics,
  ) {
    this.key = endpoint.secret ? secretKey(endpoint.secret) : undefined;
    this.breaker = new CircuitBreaker(endpoint.breakerThreshold, endpoint.breakerOpenMs, (open) =>
      metrics.breakerOpen.set({ endpoint: endpoint.id }, open ? 1 : 0),
    );
  }

  /** One attempt: waits while the breaker is open; `undefined` when `signal` aborted that wait (stopping). */
  async send(
    events: CloudEventJson[],
    body: string,
    contentType: string,
    tier: QosTier,
    signal: AbortSignal,
  ): Promise<AttemptResult | undefined> {
    if (!(await this.breaker.admit(signal))) return undefined;
    const e = this.endpoint;
    const headers: Record<string, string> = {
      'user-agent': 'busway-egress-webhook',
      ...e.headers,
      'content-type': contentType,
    };
    if (this.key)
      Object.assign(
        headers,
        signatureHeaders(this.key, deliveryIdOf(events), Math.floor(Date.now() / 1000), body),
      );
    const timer = this.metrics.requestSeconds.startTimer({ endpoint: e.id, tier });
    let result: AttemptResult;
    try {
      const res = await fetch(e.url, {
        method: 'POST',
        body,
        headers,
        signal: AbortSignal.timeout(e.timeoutMs),
        redirect: 'error', // a redirect would resend the body (and its signature) somewhere unconfigured
      });
      await res.arrayBuffer().catch(() => undefined); // read to the end: the connection goes back to the pool
      result = classifyStatus(res.status, res.headers.get('retry-after'), Date.now());
    } catch (err) {
      const name = (err as Error).name;
      result =
        name === 'TimeoutError' || name === 'AbortError'
          ? { kind: 'retryable', code: 'timeout', message: `no response in ${e.timeoutMs} ms` }
          : { kind: 'retryable', code: 'network', message: causeOf(err) };
    }
    timer();
    this.metrics.requests.inc({
      endpoint: e.id,
      tier,
      result: result.kind === 'delivered' ? String(result.status) : result.code,
    });
    // a 4xx answer proves the endpoint is up: only retryable failures count towards opening the breaker
    if (result.kind === 'retryable') this.breaker.failure();
    else this.breaker.success();
    return result;
  }

  /** The request body of `events`: one event in structured mode, or a batch. */
  bodyOf(events: CloudEventJson[]): { body: string; contentType: string } {
    return bodyOf(events, this.endpoint.batchSize > 1);
  }
}

/** fetch() rejects with "fetch failed" and the real reason (ECONNREFUSED, ...) in its cause. */
function causeOf(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return [e.message, e.cause?.code ?? e.cause?.message].filter(Boolean).join(': ');
}
