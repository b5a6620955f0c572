import { readFileSync } from 'node:fs';
import { type Logger, messageOf, PollScheduler, sleep, type WorkerRuntime } from '@busway/runtime';
import type { SlurmSourceConfig } from './config.js';
import type { DeliverySummaries, EventDelivery } from './delivery.js';
import { getJson, HttpStatusError } from './http.js';
import { safe } from './job-store.js';
import { decodeSlurmJob, slurmJobIdOf } from './slurm-decode.js';
import type { JobTracker } from './tracker.js';

interface JobsResponse {
  jobs: unknown[];
  lastUpdateS?: number;
  noChange: boolean;
  errors: string[];
}

/** Reads slurmrestd's jobs answer: its jobs, `last_update`, and whether it says nothing changed. */
export function readJobsResponse(body: unknown): JobsResponse {
  const b = (body ?? {}) as Record<string, unknown>;
  if (!Array.isArray(b.jobs)) throw new Error('the answer has no jobs list');
  const lu = b.last_update as { number?: unknown; set?: unknown } | number | undefined;
  const lastUpdateS =
    typeof lu === 'number'
      ? lu
      : lu && lu.set !== false && typeof lu.number === 'number'
        ? lu.number
        : undefined;
  const texts = (list: unknown) =>
    Array.isArray(list)
      ? list.map((e) =>
          String((e as { description?: unknown })?.description ?? (e as { error?: unknown })?.error ?? ''),
        )
      : [];
  return {
    jobs: b.jobs,
    lastUpdateS,
    noChange: b.jobs.length === 0 && texts(b.warnings).some((w) => /no job changes/i.test(w)),
    errors: texts(b.errors).filter((e) => e !== ''),
  };
}

/**
 * Polls one Slurm cluster's `GET /slurm/<version>/jobs/` with `update_time` set to the last answer's
 * `last_update`: slurmctld answers "no change" or every job it holds. Each job becomes a JobView; what it adds
 * to the published lifecycle is published (STARTED at `start_time`, the final phase at `end_time`, QUEUED at
 * `submit_time`) before the next poll. A job that no longer appears in a full answer is over (an end inferred
 * if none was seen). A job object that does not decode is dead-lettered once per job and reason.
 */
export class SlurmPoller {
  private readonly log: Logger;
  private readonly schedule: PollScheduler;
  private readonly reported = new Set<string>();
  private loop?: Promise<void>;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly source: SlurmSourceConfig,
    private readonly tracker: JobTracker,
    private readonly delivery: EventDelivery,
    private readonly cursor: { get(): string | undefined; set(v: string): Promise<boolean> },
    summaries: DeliverySummaries,
    private readonly signal: AbortSignal,
  ) {
    this.log = rt.log.child({ source: source.id });
    this.schedule = new PollScheduler(source, rt.metrics, summaries, this.log, {
      quiet: 'slurmrestd not answering; backing off',
      back: 'slurmrestd answering again',
    });
  }

  start(): void {
    this.log.info({ url: this.source.url, apiVersion: this.source.apiVersion }, 'polling Slurm jobs');
    this.loop = this.run();
  }

  async stopped(): Promise<void> {
    await this.loop;
  }

  private jobsUrl(): string {
    const base = this.source.url.replace(/\/+$/, '');
    const url = new URL(`${base}/slurm/${this.source.apiVersion}/jobs/`);
    const cursor = this.cursor.get();
    if (cursor !== undefined) url.searchParams.set('update_time', cursor);
    return url.toString();
  }

  private headers(): Record<string, string> {
    const token = this.source.tokenFile
      ? readFileSync(this.source.tokenFile, 'utf8').trim()
      : (this.source.token ?? '');
    return { 'X-SLURM-USER-NAME': this.source.user, 'X-SLURM-USER-TOKEN': token };
  }

  private async run(): Promise<void> {
    let scheduled = Date.now();
    while (!this.signal.aborted) {
      let unreachable: string | undefined;
      try {
        const r = await this.pollOnce();
        if (r === 'stopped') break;
      } catch (err) {
        unreachable = messageOf(err);
        if (err instanceof HttpStatusError && !this.reported.has(`http/${err.status}`)) {
          this.reported.add(`http/${err.status}`);
          const ok = await this.delivery.deadLetter(
            `http-${err.status}@${Date.now()}`,
            `slurm:${this.source.url}`,
            { status: err.status, body: err.body },
            {
              code: 'http-error',
              message: err.message,
            },
          );
          if (!ok) break;
        }
      }
      scheduled = this.schedule.next(unreachable, scheduled);
      await sleep(scheduled - Date.now(), this.signal);
    }
  }

  /** One poll: read, publish what changed, remember; 'stopped' when the bridge stopped mid-way. */
  async pollOnce(): Promise<'done' | 'stopped'> {
    const body = await getJson(this.jobsUrl(), {
      headers: this.headers(),
      caFile: this.source.caFile,
      timeoutMs: this.source.timeoutMs,
      signal: this.signal,
      maxBytes: 64 * 1024 * 1024,
    });
    let answer: JobsResponse;
    try {
      answer = readJobsResponse(body);
    } catch (err) {
      if (!this.reported.has('answer')) {
        this.reported.add('answer');
        const ok = await this.delivery.deadLetter(`answer@${Date.now()}`, `slurm:${this.source.url}`, body, {
          code: 'contract-violation',
          message: `slurmrestd jobs answer: ${messageOf(err)}`,
        });
        if (!ok) return 'stopped';
      }
      throw err;
    }
    this.reported.delete('answer');
    for (const status of [...this.reported].filter((k) => k.startsWith('http/')))
      this.reported.delete(status);
    if (answer.errors.length > 0) throw new Error(`slurmrestd: ${answer.errors.join('; ')}`);
    if (!answer.noChange && !(await this.applyAll(answer.jobs, answer.lastUpdateS))) return 'stopped';
    if (answer.lastUpdateS !== undefined && !(await this.cursor.set(String(answer.lastUpdateS))))
      return 'stopped';
    return 'done';
  }

  private async applyAll(jobs: unknown[], lastUpdateS?: number): Promise<boolean> {
    const present = new Set<string>();
    for (const raw of jobs) {
      const id = slurmJobIdOf(raw);
      if (id !== undefined) present.add(safe(String(id)));
      let view;
      try {
        view = decodeSlurmJob(raw);
      } catch (err) {
        const key = `job/${id ?? 'unknown'}/${messageOf(err)}`;
        if (this.reported.has(key)) continue;
        this.reported.add(key);
        const ok = await this.delivery.deadLetter(
          `job-${id ?? 'unknown'}@${lastUpdateS ?? Date.now()}`,
          `slurm:${this.source.url}/job/${id ?? '?'}`,
          raw,
          {
            code: 'contract-violation',
            message: messageOf(err),
          },
        );
        if (!ok) return false;
        continue;
      }
      if (!(await this.tracker.apply(view, lastUpdateS))) return false;
    }
    // a full answer lists every job slurmctld holds: one it no longer holds has ended (MinJobAge passed)
    for (const key of this.tracker.keys())
      if (!present.has(key) && !(await this.tracker.vanished(key))) return false;
    return true;
  }
}
