import { z } from 'zod';
import { ContractViolation } from '@busway/runtime';
import type { JobView, ViewPhase } from './lifecycle.js';

const Time = z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'an RFC 3339 time');
const Resources = z.record(z.string(), z.union([z.string(), z.number()])).optional();
const Container = z.object({
  name: z.string().optional(),
  resources: z.object({ requests: Resources, limits: Resources }).partial().optional(),
});
const ContainerState = z
  .object({
    running: z.object({ startedAt: Time.optional() }).partial().optional(),
    terminated: z.object({ startedAt: Time.optional(), finishedAt: Time.optional() }).partial().optional(),
  })
  .partial();

/** The fields of a core/v1 Pod this bridge reads; everything else is ignored. */
const PodSchema = z.object({
  metadata: z.object({
    name: z.string().min(1),
    namespace: z.string().min(1),
    uid: z.string().regex(/^[A-Za-z0-9-]+$/, 'a uid'),
    resourceVersion: z.string().optional(),
    creationTimestamp: Time.optional(),
    deletionTimestamp: Time.optional(),
  }),
  spec: z.object({
    nodeName: z.string().optional(),
    containers: z.array(Container),
    initContainers: z.array(Container).optional(),
  }),
  status: z
    .object({
      phase: z.string().optional(),
      startTime: Time.optional(),
      containerStatuses: z.array(z.object({ state: ContainerState.optional() })).optional(),
    })
    .optional(),
});
type Pod = z.infer<typeof PodSchema>;

const PHASES: Record<string, ViewPhase> = {
  Pending: 'queued',
  Running: 'started',
  Succeeded: 'ended',
  Failed: 'failed',
  Unknown: 'unknown',
};

/** A count of an extended resource: a whole number (`"8"`, `8`, `"1k"` is not a GPU count). */
function countOf(q: string | number | undefined, what: string): number {
  if (q === undefined) return 0;
  const n = typeof q === 'number' ? q : /^\d+$/.test(q.trim()) ? Number(q.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 0)
    throw new ContractViolation(`${what}: '${q}' is not a whole number of GPUs`);
  return n;
}

/** GPUs a pod asks for: per container the larger of request and limit; init containers run before, not beside. */
export function podGpus(pod: Pod, resource: string): number {
  const of = (c: z.infer<typeof Container>, i: number) =>
    Math.max(
      countOf(c.resources?.requests?.[resource], `container ${c.name ?? i} requests.${resource}`),
      countOf(c.resources?.limits?.[resource], `container ${c.name ?? i} limits.${resource}`),
    );
  const app = pod.spec.containers.reduce((sum, c, i) => sum + of(c, i), 0);
  const init = (pod.spec.initContainers ?? []).reduce((max, c, i) => Math.max(max, of(c, i)), 0);
  return Math.max(app, init);
}

const ms = (t: string | undefined) => (t === undefined ? undefined : Date.parse(t));

/** The resourceVersion of a watch event's object, whatever its kind (a Pod, a BOOKMARK). */
export function resourceVersionOf(obj: unknown): string | undefined {
  const rv = (obj as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}

/**
 * One Pod as a JobView keyed by its uid, named `<namespace>/<name>`: phase from `status.phase`, its node from
 * `spec.nodeName`, GPUs from the containers' requests and limits of `resource`, the start from the earliest
 * container start (else `status.startTime`), the end from the latest container finish. `deleted` marks a
 * DELETED watch event. Throws ContractViolation when the object is not a pod this bridge can read.
 */
export function decodePod(raw: unknown, resource: string, deleted = false): JobView {
  const parsed = PodSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ContractViolation(
      `not a Pod: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const pod = parsed.data;
  const states = (pod.status?.containerStatuses ?? []).map((s) => s.state ?? {});
  const starts = states
    .map((s) => ms(s.running?.startedAt ?? s.terminated?.startedAt))
    .filter((t): t is number => t !== undefined);
  const ends = states.map((s) => ms(s.terminated?.finishedAt)).filter((t): t is number => t !== undefined);
  const phaseName = pod.status?.phase ?? 'Pending';
  const phase = Object.hasOwn(PHASES, phaseName) ? (PHASES[phaseName] as ViewPhase) : 'unknown';
  const deletedAt = ms(pod.metadata.deletionTimestamp);
  return {
    key: pod.metadata.uid,
    jobId: `${pod.metadata.namespace}/${pod.metadata.name}`,
    run: '0',
    phase,
    nodes: pod.spec.nodeName ? [pod.spec.nodeName] : [],
    gpus: podGpus(pod, resource),
    submitMs: ms(pod.metadata.creationTimestamp),
    startMs: starts.length > 0 ? Math.min(...starts) : ms(pod.status?.startTime),
    endMs: ends.length > 0 ? Math.max(...ends) : undefined,
    ...(deleted ? { deletedMs: deletedAt ?? Date.now() } : {}),
  };
}
