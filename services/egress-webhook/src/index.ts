// Webhook egress: fabric messages as CloudEvents POSTed to HTTP endpoints, with retries, a circuit breaker and dead letters.
import type { WorkerModule } from '@busway/runtime';
import { EgressWebhookConfigSchema } from './config.js';
import { consumerSpecsOf } from './lanes.js';
import { startEgressWebhook, WORKER } from './webhook.js';

export { EgressWebhookConfigSchema, EndpointSchema } from './config.js';
export type { EgressWebhookConfig, EndpointConfig } from './config.js';
export { cloudEventOf, bodyOf } from './cloudevent.js';
export type { CloudEventJson, FabricMessage } from './cloudevent.js';
export { secretKey, signatureHeaders } from './signature.js';
export { parseRetryAfter, retryDelayMs, classifyStatus } from './retry.js';
export { CircuitBreaker } from './breaker.js';
export { lanesOf, durableOf } from './lanes.js';
export { startEgressWebhook } from './webhook.js';

export const egressWebhookModule: WorkerModule<typeof EgressWebhookConfigSchema> = {
  name: WORKER,
  stage: 'egress',
  description:
    'delivery: CloudEvents webhooks per subject filter, retries with backoff and Retry-After, circuit breaker, signed, dead letters',
  configSchema: EgressWebhookConfigSchema,
  consumers: consumerSpecsOf,
  start: startEgressWebhook,
};
