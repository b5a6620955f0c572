import {
  connectControlTier,
  PriorityGate,
  QosTiers,
  startConsumeLoop,
  type ConsumeLoop,
  type RunningWorker,
  type TierConnection,
  type WorkerRuntime,
} from '@busway/runtime';
import type { EgressWebhookConfig } from './config.js';
import { deliverBatch } from './delivery.js';
import { lanesOf } from './lanes.js';
import { WebhookMetrics } from './metrics.js';
import { EndpointSender } from './sender.js';

export const WORKER = 'egress-webhook';
const STAGE = 'egress';

/**
 * Delivers fabric messages to HTTP endpoints as CloudEvents: one durable consumer per endpoint and subject,
 * control-tier subjects (alarms, incidents, commands) on a NATS connection and limits of their own.
 */
export async function startEgressWebhook(
  rt: WorkerRuntime,
  config: EgressWebhookConfig,
): Promise<RunningWorker> {
  const metrics = new WebhookMetrics(rt.metrics.registry);
  const gate = new PriorityGate(config.priorityWaitMs);
  const stopping = new AbortController();
  const lanes = lanesOf(config);
  const control: TierConnection | undefined = lanes.some((l) => l.tier === QosTiers.Control)
    ? await connectControlTier(rt)
    : undefined;
  const senders = new Map(config.endpoints.map((e) => [e.id, new EndpointSender(e, metrics)]));
  const loops: ConsumeLoop[] = [];
  for (const lane of lanes) {
    const sender = senders.get(lane.endpoint.id) as EndpointSender;
    const isControl = lane.tier === QosTiers.Control;
    loops.push(
      await startConsumeLoop({
        stage: STAGE,
        worker: WORKER,
        js: isControl && control ? control.js : rt.js,
        termWithReason: rt.features().termWithReason,
        stream: lane.stream,
        durable: lane.durable,
        config: lane.consumer,
        metrics: rt.metrics,
        log: rt.log.child({ endpoint: lane.endpoint.id, tier: lane.tier }),
        handle: async (batch) => {
          const deliver = () => deliverBatch(lane, sender, batch, config.eventSource, stopping.signal);
          if (isControl) return gate.control(deliver);
          await gate.analyticsTurn();
          return deliver();
        },
      }),
    );
  }
  rt.log.info(
    {
      endpoints: config.endpoints.length,
      lanes: lanes.map((l) => `${l.endpoint.id}:${l.subject}:${l.tier}`),
    },
    'webhook egress consuming',
  );
  return {
    async stop() {
      stopping.abort();
      await Promise.all(loops.map((l) => l.stop()));
      await control?.close();
    },
  };
}
