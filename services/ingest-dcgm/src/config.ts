import { z } from 'zod';
import { RuntimeConfigSchema, fromJson } from '@busway/runtime';
import { FieldMappingSchema } from './fields.js';

/** One dcgm-exporter endpoint (or anything serving its exposition, such as a federating Prometheus). */
export const TargetSchema = z.object({
  /** Stable id: names the target's dead letters and AUDIT subject `audit.v1.dcgm.<id>`. */
  id: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'),
  /** The exposition's URL, e.g. http://gpu-node-07:9400/metrics. */
  url: z.url({ protocol: /^https?$/ }),
  /** Node id for series without a `Hostname` label, or to override it (an exporter in a pod). @default none */
  node: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .optional(),
  /** @default 5000 */
  pollIntervalMs: z.number().int().min(100).default(5000),
  /** Whole request, body included. @default 3000 */
  timeoutMs: z.number().int().min(50).default(3000),
  /** Longest wait between attempts while the endpoint does not answer. @default 30000 */
  maxBackoffMs: z.number().int().min(100).default(30_000),
  /** Largest exposition read; a longer one is refused (dead-lettered) rather than held. @default 8388608 */
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .default(8 * 1024 * 1024),
  /** Extra request headers (an Authorization for a secured exporter). @default {} */
  headers: z.record(z.string(), z.string()).default({}),
});
export type TargetConfig = z.output<typeof TargetSchema>;

const TargetsSchema = z.array(TargetSchema).superRefine((targets, ctx) => {
  const seen = new Set<string>();
  for (const [i, t] of targets.entries()) {
    // subject tokens are lower case: Node-1 and node-1 would share a subject
    if (seen.has(t.id.toLowerCase()))
      ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate target id '${t.id}'` });
    seen.add(t.id.toLowerCase());
  }
});

export const IngestDcgmConfigSchema = RuntimeConfigSchema.extend({
  /** Exporters to scrape: an array in the config file, a JSON array in BUSWAY_TARGETS. @default [] */
  targets: z.preprocess(fromJson('array of targets'), TargetsSchema).default([]),
  /** Redis holding the asset registry that GPUs and their points are merged into. @default redis://127.0.0.1:6379 */
  redisUrl: z.string().min(1).default('redis://127.0.0.1:6379'),
  /** Merge each GPU seen (under its node) and its points into the registry, so samples land in the GPU's rack. @default true */
  registerGpus: z.union([z.boolean(), z.stringbool()]).default(true),
  /** Longest wait for one registry merge before the scrape is published anyway (retried next scrape). @default 2000 */
  registryTimeoutMs: z.coerce.number().int().min(100).default(2000),
  /** Extra or overriding field mappings: DCGM field name → { metric, unit, kind, value }. @default {} */
  fields: z
    .preprocess(fromJson('object of field mappings'), z.record(z.string(), FieldMappingSchema))
    .default({}),
  /** Largest AUDIT copy of one exposition; a longer one is cut and marked truncated. @default 262144 */
  maxAuditBytes: z.coerce
    .number()
    .int()
    .min(0)
    .default(256 * 1024),
});
export type IngestDcgmConfig = z.output<typeof IngestDcgmConfigSchema>;
