import { busway } from '@busway/proto';

/** Where a job is, as this bridge reads its scheduler. */
export type ViewPhase =
  'queued' | 'configuring' | 'started' | 'suspended' | 'ended' | 'failed' | 'cancelled' | 'unknown';

/** One job as the scheduler shows it now: what the lifecycle needs, decoded from a Slurm job or a pod. */
export interface JobView {
  /** Identity within the source that survives renames: a Slurm job id, a pod uid. */
  key: string;
  /** The job as people name it: `1234`, `1234_7` (array task), `training/llm-0`. */
  jobId: string;
  /** Which run of the job: a requeued Slurm job runs again under the same id. */
  run: string;
  phase: ViewPhase;
  nodes: string[];
  gpus: number;
  submitMs?: number;
  startMs?: number;
  endMs?: number;
  /** The object is gone from the API (a DELETED watch event): a job not yet ended was cancelled. */
  deletedMs?: number;
}

/** What the bridge remembers of a job between reads: the phases it has published for the current run. */
export interface JobRecord {
  run: string;
  queued?: boolean;
  started?: boolean;
  /** The final phase published: nothing more is published for this run. */
  final?: 'ended' | 'failed' | 'cancelled';
  jobId: string;
  nodes: string[];
  gpus: number;
}

/** A lifecycle step to publish. */
export interface JobStep {
  phase: busway.v1.JobPhase;
  /** Event time in ms; undefined when the scheduler gave none (the ingest time is used, and said so). */
  timeMs?: number;
  name: 'queued' | 'started' | 'ended' | 'failed' | 'cancelled';
  /** The job's state is not known (it vanished from the API): the step marks the end, not how it ended. */
  inferred?: boolean;
}

const P = busway.v1.JobPhase;
const FINAL = {
  ended: P.JOB_PHASE_ENDED,
  failed: P.JOB_PHASE_FAILED,
  cancelled: P.JOB_PHASE_CANCELLED,
} as const;

/**
 * The steps a job's current view adds to what was already published, in lifecycle order, and the record to keep
 * once they are stored. A job seen only after it started (or ended) still gets its STARTED first, at its start
 * time; a job cancelled in the queue (no nodes) gets no STARTED. Applying the same view twice adds nothing; a new
 * run (requeue) starts over.
 */
export function stepsFor(
  view: JobView,
  before: JobRecord | undefined,
  emitQueued: boolean,
): { steps: JobStep[]; record: JobRecord } {
  const fresh = !before || before.run !== view.run;
  const record: JobRecord = fresh
    ? { run: view.run, jobId: view.jobId, nodes: view.nodes, gpus: view.gpus }
    : { ...before, ...(view.nodes.length > 0 ? { nodes: view.nodes, gpus: view.gpus } : {}) };
  const steps: JobStep[] = [];
  if (record.final) return { steps, record };
  const ran = view.nodes.length > 0 && view.startMs !== undefined;
  // never QUEUED after STARTED: a stale read of an earlier state does not rewind a job
  if (view.phase === 'queued' && emitQueued && !record.queued && !record.started) {
    steps.push({ phase: P.JOB_PHASE_QUEUED, timeMs: view.submitMs, name: 'queued' });
    record.queued = true;
  }
  const pastStart = view.phase === 'started' || view.phase === 'suspended' || view.phase in FINAL;
  if (pastStart && ran && !record.started) {
    steps.push({ phase: P.JOB_PHASE_STARTED, timeMs: view.startMs, name: 'started' });
    record.started = true;
  }
  const final =
    view.phase in FINAL
      ? (view.phase as keyof typeof FINAL)
      : view.deletedMs !== undefined
        ? 'cancelled'
        : undefined;
  if (final) {
    const timeMs = view.phase in FINAL ? (view.endMs ?? view.deletedMs) : view.deletedMs;
    steps.push({ phase: FINAL[final], timeMs, name: final });
    record.final = final;
  }
  return { steps, record };
}

/**
 * The step for a job that vanished from the API before its end was seen (the bridge was away longer than the
 * scheduler keeps finished jobs): ENDED if it had started, CANCELLED if it never left the queue; inferred, at
 * the ingest time.
 */
export function vanishedStep(record: JobRecord): JobStep | undefined {
  if (record.final) return undefined;
  if (record.started) return { phase: P.JOB_PHASE_ENDED, name: 'ended', inferred: true };
  return { phase: P.JOB_PHASE_CANCELLED, name: 'cancelled', inferred: true };
}
