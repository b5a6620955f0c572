import { z } from 'zod';
import { ContractViolation } from '@busway/runtime';
import { expandHostlist } from './hostlist.js';
import type { JobView, ViewPhase } from './lifecycle.js';

/** A Slurm number: a plain integer (v0.0.39 and before) or `{set, infinite, number}` (v0.0.40 and later). */
const NoVal = z.union([
  z.number(),
  z.object({ set: z.boolean().optional(), infinite: z.boolean().optional(), number: z.number().optional() }),
]);
type NoVal = z.infer<typeof NoVal>;

/** The fields of a v0.0.40+ JobInfo this bridge reads; everything else is ignored. */
const SlurmJobSchema = z.object({
  job_id: z.number().int().min(0),
  name: z.string().optional(),
  job_state: z.union([z.array(z.string()), z.string()]),
  nodes: z.string().optional(),
  submit_time: NoVal.optional(),
  start_time: NoVal.optional(),
  end_time: NoVal.optional(),
  restart_cnt: z.number().int().optional(),
  tres_alloc_str: z.string().optional(),
  gres_detail: z.array(z.string()).optional(),
  array_job_id: NoVal.optional(),
  array_task_id: NoVal.optional(),
  het_job_id: NoVal.optional(),
  het_job_offset: NoVal.optional(),
});

const BASE_STATES: Record<string, ViewPhase> = {
  PENDING: 'queued',
  RUNNING: 'started',
  SUSPENDED: 'suspended',
  COMPLETED: 'ended',
  CANCELLED: 'cancelled',
  PREEMPTED: 'cancelled',
  FAILED: 'failed',
  TIMEOUT: 'failed',
  NODE_FAIL: 'failed',
  BOOT_FAIL: 'failed',
  DEADLINE: 'failed',
  OUT_OF_MEMORY: 'failed',
};

/** A set, finite number; undefined for unset, infinite or zero (Slurm's "no time"). */
function numberOf(v: NoVal | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v > 0 ? v : undefined;
  if (v.set === false || v.infinite === true || v.number === undefined || v.number <= 0) return undefined;
  return v.number;
}

const msOf = (v: NoVal | undefined) => {
  const s = numberOf(v);
  return s === undefined ? undefined : s * 1000;
};

/**
 * GPUs a job holds: `gres/gpu=N` in its allocated TRES, else the sum of the typed `gres/gpu:<type>=N` entries,
 * else the sum of its per-node GRES detail (`gpu:h100:8(IDX:0-7)`), else 0.
 */
export function gpusOf(tres: string | undefined, gresDetail: readonly string[] = []): number {
  let total: number | undefined;
  let typed = 0;
  for (const entry of (tres ?? '').split(',')) {
    const [key = '', value = ''] = entry.split('=', 2);
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (Number.isNaN(n)) continue;
    if (key === 'gres/gpu') total = n;
    else if (key.startsWith('gres/gpu:')) typed += n;
  }
  if (total !== undefined) return total;
  if (typed > 0) return typed;
  let detail = 0;
  for (const d of gresDetail)
    for (const part of d.split(',')) {
      const m = /^gpu(?::[^:(]+)?:(\d+)/.exec(part);
      if (m) detail += Number(m[1]);
    }
  return detail;
}

/** The job's id as Slurm prints it: `1234`, `1234_7` for an array task, `1234+1` for a heterogeneous component. */
function displayIdOf(job: z.infer<typeof SlurmJobSchema>): string {
  const arrayJob = numberOf(job.array_job_id);
  const task = job.array_task_id;
  const taskId = typeof task === 'number' ? task : task?.set ? task.number : undefined;
  if (arrayJob !== undefined && taskId !== undefined) return `${arrayJob}_${taskId}`;
  const het = numberOf(job.het_job_id);
  const offset = job.het_job_offset;
  const offsetN = typeof offset === 'number' ? offset : offset?.set ? offset.number : undefined;
  if (het !== undefined && offsetN !== undefined && het !== job.job_id) return `${het}+${offsetN}`;
  return String(job.job_id);
}

/** The job id of a raw object, if it has one: lets a job that does not decode still count as present. */
export function slurmJobIdOf(raw: unknown): number | undefined {
  const id = (raw as { job_id?: unknown } | null)?.job_id;
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 ? id : undefined;
}

/**
 * One slurmrestd job object as a JobView: the base state of `job_state` (flags such as COMPLETING follow it;
 * a RUNNING job still CONFIGURING its nodes has not started), nodes expanded from the host list, GPUs from
 * TRES or GRES, times from seconds. Throws ContractViolation when the object is not a job this bridge can read.
 */
export function decodeSlurmJob(raw: unknown): JobView {
  const parsed = SlurmJobSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ContractViolation(
      `not a Slurm job: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const job = parsed.data;
  const states = Array.isArray(job.job_state) ? job.job_state : job.job_state.split(/[,+ ]+/);
  const base = states.find((s) => Object.hasOwn(BASE_STATES, s));
  if (base === undefined)
    throw new ContractViolation(
      `job ${job.job_id}: no base state Busway knows in job_state ${JSON.stringify(job.job_state)}`,
    );
  let phase = BASE_STATES[base] as ViewPhase;
  if (phase === 'started' && states.includes('CONFIGURING')) phase = 'configuring';
  const nodes = job.nodes ? expandHostlist(job.nodes) : [];
  return {
    key: String(job.job_id),
    jobId: displayIdOf(job),
    run: String(job.restart_cnt ?? 0),
    phase,
    nodes,
    gpus: gpusOf(job.tres_alloc_str, job.gres_detail),
    submitMs: msOf(job.submit_time),
    startMs: msOf(job.start_time),
    endMs: msOf(job.end_time),
  };
}
