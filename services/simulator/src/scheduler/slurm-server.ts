import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compressHostlist } from './hostlist.js';

/** Base job states of Slurm (`job_state[0]` in the v0.0.40+ data parser). */
export type SlurmState =
  | 'PENDING'
  | 'RUNNING'
  | 'SUSPENDED'
  | 'COMPLETED'
  | 'CANCELLED'
  | 'FAILED'
  | 'TIMEOUT'
  | 'NODE_FAIL'
  | 'PREEMPTED'
  | 'BOOT_FAIL'
  | 'DEADLINE'
  | 'OUT_OF_MEMORY';

/** One job as slurmctld holds it. Times in ms; the API prints seconds, as Slurm does. */
export interface SlurmJob {
  jobId: number;
  name: string;
  user: string;
  partition: string;
  state: SlurmState;
  /** State flags printed after the base state (`COMPLETING`, `CONFIGURING`, `REQUEUED`). */
  flags: string[];
  nodes: string[];
  gpusPerNode: number;
  gpuType: string;
  submitMs: number;
  startMs?: number;
  endMs?: number;
  restartCount: number;
  exitCode: number;
}

export interface SlurmRestServerOptions {
  port?: number;
  /** @default 127.0.0.1 */
  host?: string;
  /** `X-SLURM-USER-NAME` the server accepts. @default busway */
  user?: string;
  /** `X-SLURM-USER-TOKEN` the server accepts (a JWT in a real cluster). @default sim-token */
  token?: string;
  /** @default sim */
  cluster?: string;
}

const noVal = (n: number | undefined) =>
  n === undefined ? { set: false, infinite: false, number: 0 } : { set: true, infinite: false, number: n };
const seconds = (ms: number | undefined) => (ms === undefined ? undefined : Math.floor(ms / 1000));

/**
 * slurmrestd's job endpoints as a test peer and for the simulator: `GET /slurm/v0.0.41/jobs/` (and v0.0.40,
 * v0.0.42, with or without the trailing slash) and `GET /slurm/<version>/job/<id>`, authenticated with
 * `X-SLURM-USER-NAME` / `X-SLURM-USER-TOKEN` (401 otherwise). `update_time` behaves as in slurmctld: when no
 * job changed since that second, the answer has no jobs and a "No job changes" warning; otherwise every job
 * slurmctld still holds. `last_update` is the second of the answer. Jobs are rendered in the v0.0.41 JobInfo
 * shape: `job_state` as a list, times as `{set, infinite, number}`, node lists in hostlist form, GPUs in TRES
 * and GRES strings. For tests: `failNext(status)`, `rawJobs` (objects served as they are) and `purge(id)`
 * (a finished job leaves slurmctld's memory after MinJobAge).
 */
export class SlurmRestServer {
  readonly jobs = new Map<number, SlurmJob>();
  /** Extra job objects appended verbatim to every answer (malformed input for tests). */
  rawJobs: unknown[] = [];
  /** Requests answered, with their query, for tests. */
  readonly requests: { path: string; updateTime?: string }[] = [];
  private lastJobUpdateMs = Date.now();
  private failures: number[] = [];
  private nextId = 1000;

  private constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
    readonly user: string,
    readonly token: string,
    readonly cluster: string,
  ) {}

  static async start(opts: SlurmRestServerOptions = {}): Promise<SlurmRestServer> {
    const host = opts.host ?? '127.0.0.1';
    const holder: { s?: SlurmRestServer } = {};
    const server = createServer((req, res) => holder.s?.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
    const s = new SlurmRestServer(
      server,
      host,
      (server.address() as AddressInfo).port,
      opts.user ?? 'busway',
      opts.token ?? 'sim-token',
      opts.cluster ?? 'sim',
    );
    holder.s = s;
    return s;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** A job enters the queue (PENDING). Returns its id. */
  submit(job: { name: string; gpusPerNode?: number; user?: string; jobId?: number }, atMs: number): number {
    const jobId = job.jobId ?? this.nextId++;
    this.jobs.set(jobId, {
      jobId,
      name: job.name,
      user: job.user ?? 'alice',
      partition: 'gpu',
      state: 'PENDING',
      flags: [],
      nodes: [],
      gpusPerNode: job.gpusPerNode ?? 8,
      gpuType: 'h100',
      submitMs: atMs,
      restartCount: 0,
      exitCode: 0,
    });
    this.touch();
    return jobId;
  }

  /** The job is allocated its nodes and starts. */
  start(jobId: number, nodes: string[], atMs: number): void {
    this.update(jobId, (j) => {
      j.state = 'RUNNING';
      j.flags = [];
      j.nodes = [...nodes];
      j.startMs = atMs;
      j.endMs = undefined;
    });
  }

  /** The job ends in a final state. */
  finish(jobId: number, state: SlurmState, atMs: number, exitCode = state === 'COMPLETED' ? 0 : 1): void {
    this.update(jobId, (j) => {
      j.state = state;
      j.flags = [];
      j.endMs = atMs;
      j.exitCode = exitCode;
      // a job cancelled in the queue gets start = end, as slurmctld sets them
      if (j.startMs === undefined) j.startMs = atMs;
    });
  }

  /** A running job is requeued: PENDING again with the REQUEUED flag and a new restart count. */
  requeue(jobId: number, atMs: number): void {
    this.update(jobId, (j) => {
      j.state = 'PENDING';
      j.flags = ['REQUEUED'];
      j.restartCount++;
      j.submitMs = atMs;
      j.startMs = undefined;
      j.endMs = undefined;
      j.nodes = [];
    });
  }

  update(jobId: number, change: (j: SlurmJob) => void): void {
    const j = this.jobs.get(jobId);
    if (!j) throw new Error(`no job ${jobId}`);
    change(j);
    this.touch();
  }

  /** The job leaves slurmctld's memory (MinJobAge passed). */
  purge(jobId: number): void {
    this.jobs.delete(jobId);
    this.touch();
  }

  /** The next `times` requests are answered with this HTTP status. */
  failNext(status: number, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(status);
  }

  private touch(): void {
    this.lastJobUpdateMs = Date.now();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const list = /^\/slurm\/(v0\.0\.4[0-9])\/jobs\/?$/.exec(url.pathname);
    const one = /^\/slurm\/(v0\.0\.4[0-9])\/job\/([^/]+)\/?$/.exec(url.pathname);
    if (req.method !== 'GET' || (!list && !one)) return void send(404, this.envelope([], [], 'not found'));
    if (req.headers['x-slurm-user-name'] !== this.user || req.headers['x-slurm-user-token'] !== this.token)
      return void send(401, this.envelope([], [], 'Authentication failure'));
    this.requests.push({ path: url.pathname, updateTime: url.searchParams.get('update_time') ?? undefined });
    const failure = this.failures.shift();
    if (failure !== undefined) return void send(failure, this.envelope([], [], 'Unable to query jobs'));
    if (one) {
      const j = this.jobs.get(Number(one[2]));
      if (!j) return void send(500, this.envelope([], [], `Unable to query JobId=${one[2]}`));
      return void send(200, this.envelope([this.render(j)], []));
    }
    const since = url.searchParams.get('update_time');
    // slurmctld: no change when (update_time - 1) >= last_job_update, in whole seconds
    if (since !== null && Number(since) - 1 >= Math.floor(this.lastJobUpdateMs / 1000))
      return void send(
        200,
        this.envelope([], [{ description: `No job changes since update_time=${since}` }]),
      );
    const jobs = [...this.jobs.values()].sort((a, b) => a.jobId - b.jobId).map((j) => this.render(j));
    send(200, this.envelope([...jobs, ...this.rawJobs], []));
  }

  private envelope(jobs: unknown[], warnings: { description: string }[], error?: string) {
    return {
      jobs,
      last_backfill: noVal(undefined),
      last_update: noVal(Math.floor(Date.now() / 1000)),
      meta: {
        plugin: {
          type: 'openapi/slurmctld',
          name: 'Slurm OpenAPI slurmctld',
          data_parser: 'data_parser/v0.0.41',
        },
        client: { source: 'busway-sim', user: this.user, group: 'busway' },
        command: [],
        slurm: {
          version: { major: '24', micro: '0', minor: '05' },
          release: '24.05.0',
          cluster: this.cluster,
        },
      },
      errors: error ? [{ description: error, error_number: 9000, error, source: 'slurmrestd' }] : [],
      warnings: warnings.map((w) => ({ ...w, source: '_op_handler_jobs' })),
    };
  }

  /** One job in the v0.0.41 JobInfo shape (the fields a consumer of job lifecycle reads, and a few more). */
  render(j: SlurmJob): Record<string, unknown> {
    const running = j.nodes.length > 0;
    const gpus = j.nodes.length * j.gpusPerNode;
    const hostlist = compressHostlist(j.nodes);
    const tres = `cpu=${Math.max(1, j.nodes.length) * 112},mem=${Math.max(1, j.nodes.length) * 2000}G,node=${Math.max(1, j.nodes.length)},billing=${Math.max(1, j.nodes.length) * 112}`;
    return {
      account: 'research',
      array_job_id: noVal(0),
      array_task_id: noVal(undefined),
      cluster: this.cluster,
      end_time: noVal(seconds(j.endMs) ?? 0),
      exit_code: {
        status: [j.exitCode === 0 ? 'SUCCESS' : 'ERROR'],
        return_code: noVal(j.exitCode),
        signal: { id: noVal(undefined), name: '' },
      },
      gres_detail: j.nodes.map(() => `gpu:${j.gpuType}:${j.gpusPerNode}(IDX:0-${j.gpusPerNode - 1})`),
      het_job_id: noVal(0),
      het_job_offset: noVal(undefined),
      job_id: j.jobId,
      job_resources: running
        ? {
            select_type: ['CPU'],
            nodes: {
              count: j.nodes.length,
              select_type: ['AVAILABLE'],
              list: hostlist,
              whole: true,
              allocation: j.nodes.map((name, index) => ({
                index,
                name,
                cpus: { count: 112, used: 112 },
                memory: { used: 0, allocated: 2_048_000 },
              })),
            },
            cpus: 112 * j.nodes.length,
            threads_per_core: noVal(2),
          }
        : {},
      job_state: [j.state, ...j.flags],
      name: j.name,
      node_count: noVal(Math.max(1, j.nodes.length)),
      nodes: hostlist,
      partition: j.partition,
      restart_cnt: j.restartCount,
      start_time: noVal(seconds(j.startMs) ?? 0),
      state_reason: j.state === 'PENDING' ? 'Priority' : 'None',
      submit_time: noVal(seconds(j.submitMs)),
      tres_alloc_str: running ? `${tres},gres/gpu=${gpus},gres/gpu:${j.gpuType}=${gpus}` : '',
      tres_per_node: `gres/gpu:${j.gpusPerNode}`,
      tres_req_str: tres,
      user_name: j.user,
    };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
