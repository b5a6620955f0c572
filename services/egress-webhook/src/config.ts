import { z } from 'zod';
import {
  ConsumerConfigSchema,
  ControlTierConfigSchema,
  RuntimeConfigSchema,
  streamOfSubject,
  fromJson,
} from '@busway/runtime';

/** A NATS subject filter that lies within one fabric stream (`alarm.v1.>`, `uns.v1.ai1.*.*.*.cdu.>`). */
export const SubjectFilterSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\.([A-Za-z0-9_-]+|\*))*(\.>)?$/, 'a NATS subject filter (tokens, * and a final >)')
  .refine((s) => streamOfSubject(s) !== undefined, {
    message: 'must lie within one stream (uns.v1.…, alarm.v1.…, incident.v1.…, control.v1.…, anomaly.v1.…)',
  });

/** One receiver of webhooks and what it gets. */
export const EndpointSchema = z
  .object({
    /** Stable id: names its durable consumers (`egress-webhook-<id>-…`) and its metrics. */
    id: z.string().regex(/^[a-z0-9_-]+$/, 'lower-case letters, digits, _ and - only'),
    /** Where events are POSTed (http or https). */
    url: z.url({ protocol: /^https?$/ }),
    /** Subjects delivered to it; each has its own durable consumer. Subjects of one endpoint must not overlap. */
    subjects: z.array(SubjectFilterSchema).min(1),
    /** Standard Webhooks signing secret (`whsec_<base64>`, or any string used as its bytes). @default none (unsigned) */
    secret: z.string().min(8).optional(),
    /** Extra request headers (an Authorization header, say). @default {} */
    headers: z.record(z.string(), z.string()).default({}),
    /** Events per POST; above 1 the body is a CloudEvents JSON batch (`application/cloudevents-batch+json`). @default 1 */
    batchSize: z.number().int().min(1).max(1000).default(1),
    /** POSTs in flight at once, per tier, for this endpoint. @default 4 */
    concurrency: z.number().int().min(1).max(256).default(4),
    /** Time one POST may take before it counts as failed. @default 10000 */
    timeoutMs: z.number().int().min(100).default(10_000),
    /** Attempts before an event is dead-lettered (its consumer's max_deliver). @default 8 */
    maxAttempts: z.number().int().min(1).max(100).default(8),
    /** Wait after the first failed attempt; doubles per attempt, with jitter. @default 1000 */
    initialBackoffMs: z.number().int().min(0).default(1000),
    /** Longest wait between two attempts. @default 60000 */
    maxBackoffMs: z.number().int().min(0).default(60_000),
    /** Longest Retry-After honoured; a longer one is cut to this. @default 600000 */
    maxRetryAfterMs: z.number().int().min(0).default(600_000),
    /** Failed attempts in a row that open the circuit breaker. @default 5 */
    breakerThreshold: z.number().int().min(1).default(5),
    /** How long an open breaker keeps every request back before one probes. @default 30000 */
    breakerOpenMs: z.number().int().min(100).default(30_000),
    /** Largest request body; an event beyond it is dead-lettered as too-large. @default 1048576 */
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024),
  })
  .strict();
export type EndpointConfig = z.output<typeof EndpointSchema>;

const EndpointsSchema = z.array(EndpointSchema).superRefine((endpoints, ctx) => {
  const seen = new Set<string>();
  for (const [i, e] of endpoints.entries()) {
    if (seen.has(e.id))
      ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate endpoint id '${e.id}'` });
    seen.add(e.id);
  }
});

export const EgressWebhookConfigSchema = RuntimeConfigSchema.extend(ConsumerConfigSchema.shape)
  .extend(ControlTierConfigSchema.shape)
  .extend({
    /** Receivers and their subjects: an array in the config file, a JSON array in BUSWAY_ENDPOINTS. @default [] */
    endpoints: z.preprocess(fromJson('array of endpoints'), EndpointsSchema).default([]),
    /** Longest time analytics deliveries wait while control deliveries are in hand [BUSWAY_PRIORITY_WAIT_MS]. @default 1000 */
    priorityWaitMs: z.coerce.number().int().min(0).default(1000),
    /** CloudEvents `source` of events whose message has none [BUSWAY_EVENT_SOURCE]. @default /busway */
    eventSource: z.string().min(1).default('/busway'),
  });
export type EgressWebhookConfig = z.output<typeof EgressWebhookConfigSchema>;
