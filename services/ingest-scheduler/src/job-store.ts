import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { openKvBucket } from '@busway/runtime';
import type { JobRecord } from './lifecycle.js';

/**
 * One source's memory in a JetStream KV bucket: its cursor (Slurm's last_update, Kubernetes' resourceVersion)
 * under `<source>.cursor`, and each job's published phases under `<source>.job.<key>`. A restarted bridge
 * resumes from the cursor and publishes nothing twice for the jobs it remembers. Reads are from memory
 * (loaded once at start); writes go through to the bucket.
 */
export class JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  private cursorValue?: string;

  private constructor(
    private readonly kv: KV,
    private readonly source: string,
  ) {}

  static async open(js: JetStreamClient, bucket: string, source: string, replicas = 1): Promise<JobStore> {
    // history 1: only the current state of each job matters
    const kv = await openKvBucket(js, bucket, { replicas });
    const store = new JobStore(kv, source);
    await store.load();
    return store;
  }

  private async load(): Promise<void> {
    const cursor = await this.kv.get(`${this.source}.cursor`);
    if (cursor?.operation === 'PUT') this.cursorValue = cursor.string();
    const keys: string[] = [];
    for await (const k of await this.kv.keys(`${this.source}.job.>`)) keys.push(k);
    const prefix = `${this.source}.job.`;
    for (const k of keys) {
      const e = await this.kv.get(k);
      if (!e || e.operation !== 'PUT') continue;
      try {
        this.jobs.set(k.slice(prefix.length), e.json<JobRecord>());
      } catch {
        continue; // an unreadable record: the job is treated as new, and the dedup ids keep a replay out
      }
    }
  }

  get cursor(): string | undefined {
    return this.cursorValue;
  }

  async setCursor(value: string): Promise<void> {
    if (value === this.cursorValue) return;
    await this.kv.put(`${this.source}.cursor`, value);
    this.cursorValue = value;
  }

  get(key: string): JobRecord | undefined {
    return this.jobs.get(safe(key));
  }

  /** Keys of every remembered job (as stored: a key with characters KV does not allow comes back escaped). */
  keys(): string[] {
    return [...this.jobs.keys()];
  }

  async put(key: string, record: JobRecord): Promise<void> {
    await this.kv.put(`${this.source}.job.${safe(key)}`, JSON.stringify(record));
    this.jobs.set(safe(key), record);
  }

  async remove(key: string): Promise<void> {
    await this.kv.purge(`${this.source}.job.${safe(key)}`);
    this.jobs.delete(safe(key));
  }
}

/** KV keys allow [-/_=.a-zA-Z0-9]: Slurm ids and pod uids fit; anything else is escaped. */
export const safe = (key: string) =>
  key.replace(/[^-_=a-zA-Z0-9]/g, (c) => `=${c.charCodeAt(0).toString(16)}`);
