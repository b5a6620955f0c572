import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the webhook egress reports besides the stage metrics. */
export class WebhookMetrics {
  readonly requests: Counter<'endpoint' | 'tier' | 'result'>;
  readonly requestSeconds: Histogram<'endpoint' | 'tier'>;
  readonly breakerOpen: Gauge<'endpoint'>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'busway_webhook_requests_total',
      help: 'Webhook POSTs by endpoint, tier and result (HTTP status, timeout, network)',
      labelNames: ['endpoint', 'tier', 'result'],
      registers: [registry],
    });
    this.requestSeconds = new Histogram({
      name: 'busway_webhook_request_duration_seconds',
      help: 'Time from sending a webhook POST to its response',
      labelNames: ['endpoint', 'tier'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.breakerOpen = new Gauge({
      name: 'busway_webhook_breaker_open',
      help: '1 while the endpoint circuit breaker holds requests back',
      labelNames: ['endpoint'],
      registers: [registry],
    });
  }
}
