import type { JobEventOut } from '../plant-sim.js';
import { bindPod, finishPod, newPod, runPod } from './kube-pods.js';
import type { KubeApiServer } from './kube-server.js';
import type { SlurmRestServer } from './slurm-server.js';

/** slurmctld's default MinJobAge: how long a finished job stays queryable. */
const MIN_JOB_AGE_MS = 300_000;

/** Pods of the simulated jobs live in this namespace. */
export const SIM_NAMESPACE = 'training';

/** The pod a simulated job runs on one of its nodes: `<job id>-<node>`. */
export const simPodName = (jobId: string, node: string) => `${jobId}-${node}`;

/**
 * Plays the plant's jobs into the scheduler APIs: a job start is a Slurm job submitted and started on its
 * nodes at that instant (Slurm prints whole seconds), and one pod per node (a batch/v1 Job's workers, each
 * asking for the node's GPUs), bound and running; a job end completes the Slurm job and the pods. Finished
 * jobs stay queryable: slurmctld keeps them for MinJobAge and completed pods stay until deleted.
 */
export class SimSchedulerApis {
  private readonly slurmIds = new Map<string, number>();
  private nextSlurmId: number;
  /** Finished jobs, oldest first, until MinJobAge passes. */
  private finished: { endMs: number; slurmId?: number; pods: string[] }[] = [];

  constructor(
    private readonly gpusPerNode: number,
    private readonly slurm?: SlurmRestServer,
    private readonly kube?: KubeApiServer,
    /** The first Slurm job id: slurmctld numbers on from its last job, across restarts. */
    firstSlurmId = 1,
  ) {
    this.nextSlurmId = firstSlurmId;
  }

  observe(events: readonly JobEventOut[], nowMs = Date.now()): void {
    for (const e of events) {
      if (e.phase === 'started') this.started(e);
      else this.ended(e);
    }
    // slurmctld forgets a finished job after MinJobAge; the simulated cluster deletes finished pods then too
    while (this.finished[0] && this.finished[0].endMs < nowMs - MIN_JOB_AGE_MS) {
      const f = this.finished.shift();
      if (f?.slurmId !== undefined) this.slurm?.purge(f.slurmId);
      for (const name of f?.pods ?? []) this.kube?.delete(SIM_NAMESPACE, name, nowMs);
    }
  }

  private started(e: JobEventOut): void {
    if (this.slurm) {
      const id = this.slurm.submit(
        { name: e.jobId, gpusPerNode: this.gpusPerNode, jobId: this.nextSlurmId++ },
        e.timeMs,
      );
      this.slurmIds.set(e.jobId, id);
      this.slurm.start(id, e.nodes, e.timeMs);
    }
    if (this.kube)
      for (const node of e.nodes) {
        const pod = newPod({
          name: simPodName(e.jobId, node),
          namespace: SIM_NAMESPACE,
          gpus: this.gpusPerNode,
          jobName: e.jobId,
          createdMs: e.timeMs,
        });
        this.kube.create(pod);
        this.kube.update(SIM_NAMESPACE, pod.metadata.name, (p) => bindPod(p, node, e.timeMs));
        this.kube.update(SIM_NAMESPACE, pod.metadata.name, (p) => runPod(p, e.timeMs));
      }
  }

  private ended(e: JobEventOut): void {
    const id = this.slurmIds.get(e.jobId);
    if (this.slurm && id !== undefined) {
      this.slurm.finish(id, 'COMPLETED', e.timeMs);
      this.slurmIds.delete(e.jobId);
    }
    const pods = this.kube ? e.nodes.map((node) => simPodName(e.jobId, node)) : [];
    for (const name of pods)
      this.kube?.update(SIM_NAMESPACE, name, (p) => finishPod(p, 'Succeeded', e.timeMs));
    this.finished.push({ endMs: e.timeMs, slurmId: id, pods });
  }
}
