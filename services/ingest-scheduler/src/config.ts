import { z } from 'zod';
import { RuntimeConfigSchema, fromJson } from '@busway/runtime';

const Id = z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only');
const ClockSource = z.enum(['ntp', 'ptp', 'device']);

/** Settings every scheduler source shares. */
const SourceBase = {
  /** Stable id: the subject `raw.v1.events.<id>`, the dedup ids and the state keys. */
  id: Id,
  /** Base URL of the API, e.g. http://slurmctld:6820 or https://kubernetes.default.svc. */
  url: z.url({ protocol: /^https?$/ }),
  /** PEM file of the CA that signed the API's certificate (HTTPS). @default none (the system's CAs) */
  caFile: z.string().optional(),
  /** One request's time limit (a watch is limited by watchTimeoutS instead). @default 10000 */
  timeoutMs: z.number().int().min(100).default(10_000),
  /** Longest wait between attempts while the API does not answer or JetStream does not store. @default 30000 */
  maxBackoffMs: z.number().int().min(100).default(30_000),
  /** What keeps the scheduler's clock: its job times are event times with this clock source. @default ntp */
  clockSource: ClockSource.default('ntp'),
  /** Also publish QUEUED when a job enters the queue. @default true */
  emitQueued: z.boolean().default(true),
};

/** A Slurm cluster through slurmrestd's job endpoints. */
export const SlurmSourceSchema = z
  .object({
    ...SourceBase,
    /** slurmrestd plugin version of the job endpoints (v0.0.40 and later share the job shape). @default v0.0.41 */
    apiVersion: z
      .string()
      .regex(/^v0\.0\.(4\d|[5-9]\d)$/, 'v0.0.40 or later')
      .default('v0.0.41'),
    /** X-SLURM-USER-NAME. */
    user: z.string().min(1),
    /** X-SLURM-USER-TOKEN (a JWT from `scontrol token`). @default none */
    token: z.string().optional(),
    /** File holding the token, read at each request (rotated tokens). @default none */
    tokenFile: z.string().optional(),
    /** @default 5000 */
    pollIntervalMs: z.number().int().min(100).default(5000),
  })
  .refine((s) => s.token !== undefined || s.tokenFile !== undefined, {
    message: 'a Slurm source needs token or tokenFile',
    path: ['token'],
  });
export type SlurmSourceConfig = z.output<typeof SlurmSourceSchema>;

/** A Kubernetes cluster: Pods, listed then watched. */
export const KubeSourceSchema = z.object({
  ...SourceBase,
  /** Bearer token. @default none */
  token: z.string().optional(),
  /** File holding the bearer token, read at each request (a projected service-account token). @default none */
  tokenFile: z.string().optional(),
  /** Watch one namespace only. @default all namespaces */
  namespace: z.string().optional(),
  /** Label selector passed to the API, e.g. `app.kubernetes.io/part-of=training`. @default none */
  labelSelector: z.string().optional(),
  /** Field selector passed to the API, e.g. `status.phase!=Pending`. @default none */
  fieldSelector: z.string().optional(),
  /** Extended resource that counts GPUs in container requests and limits. @default nvidia.com/gpu */
  gpuResource: z.string().min(1).default('nvidia.com/gpu'),
  /** Only pods that ask for GPUs are jobs. @default true */
  gpuPodsOnly: z.boolean().default(true),
  /** Lifetime the bridge asks of one watch; it re-watches from the last resourceVersion after it. @default 300 */
  watchTimeoutS: z.number().int().min(1).default(300),
  /** Pods per list page (limit / continue). @default 500 */
  pageSize: z.number().int().min(1).default(500),
  /** How often the last resourceVersion seen is saved at most (a replay from an older one is deduplicated). @default 1000 */
  cursorSaveIntervalMs: z.number().int().min(0).default(1000),
});
export type KubeSourceConfig = z.output<typeof KubeSourceSchema>;

export const IngestSchedulerConfigSchema = RuntimeConfigSchema.extend({
  /** Slurm clusters: an array in the config file, a JSON array in BUSWAY_SLURM. @default [] */
  slurm: z.preprocess(fromJson('array of Slurm sources'), z.array(SlurmSourceSchema)).default([]),
  /** Kubernetes clusters: an array in the config file, a JSON array in BUSWAY_KUBERNETES. @default [] */
  kubernetes: z.preprocess(fromJson('array of Kubernetes sources'), z.array(KubeSourceSchema)).default([]),
  /** JetStream KV bucket keeping each source's cursor and each job's published phases. @default scheduler-state */
  stateBucket: Id.default('scheduler-state'),
}).superRefine((c, ctx) => {
  const seen = new Set<string>();
  for (const [list, sources] of [
    ['slurm', c.slurm],
    ['kubernetes', c.kubernetes],
  ] as const)
    for (const [i, s] of sources.entries()) {
      if (seen.has(s.id.toLowerCase()))
        ctx.addIssue({ code: 'custom', path: [list, i, 'id'], message: `duplicate source id '${s.id}'` });
      seen.add(s.id.toLowerCase());
    }
});
export type IngestSchedulerConfig = z.output<typeof IngestSchedulerConfigSchema>;
