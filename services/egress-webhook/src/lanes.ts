import { createHash } from 'node:crypto';
import {
  consumerSpecOf,
  streamOfSubject,
  tierConsumerConfig,
  tierOfStream,
  type ConsumerConfig,
  type ConsumerSpec,
  type QosTier,
} from '@busway/runtime';
import type { EgressWebhookConfig, EndpointConfig } from './config.js';

/** One endpoint's share of one subject: a durable consumer of its own, on its tier's limits. */
export interface Lane {
  endpoint: EndpointConfig;
  subject: string;
  stream: string;
  tier: QosTier;
  durable: string;
  consumer: ConsumerConfig;
}

/** Durable names stay the same when subjects are reordered or added: the subject's hash, not its index. */
export function durableOf(endpointId: string, subject: string): string {
  return `egress-webhook-${endpointId}-${createHash('sha256').update(subject).digest('hex').slice(0, 10)}`;
}

export function lanesOf(config: EgressWebhookConfig): Lane[] {
  return config.endpoints.flatMap((endpoint) =>
    endpoint.subjects.map((subject) => {
      const stream = streamOfSubject(subject) as string; // the config schema refused any other
      const tier = tierOfStream(stream);
      return {
        endpoint,
        subject,
        stream,
        tier,
        durable: durableOf(endpoint.id, subject),
        // the endpoint's attempts are its consumer's deliveries: the last one dead-letters
        consumer: { ...tierConsumerConfig(config, tier), maxDeliver: endpoint.maxAttempts },
      };
    }),
  );
}

export function consumerSpecsOf(config: EgressWebhookConfig): ConsumerSpec[] {
  return lanesOf(config).map((l) => consumerSpecOf(l.stream, l.durable, l.subject, l.consumer));
}
