import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { openKvBucket } from '@busway/runtime';
import { z } from 'zod';

/**
 * Where the rollup worker resumes after a restart: the input sequence from which replaying rebuilds every
 * open 1 min window, how far each period is closed, and the ROLLUP_1M sequence from which the open hours'
 * minutes are read back.
 */
export const CheckpointSchema = z.object({
  /** ORDERED sequence to replay from (0: from the start of the stream). */
  orderedSeq: z.number().int().min(0),
  /** Every 1 min window ending at or before this (ms) is published; null before the first. */
  closed1mMs: z.number().nullable(),
  /** Every 1 h window ending at or before this (ms) is published; null before the first. */
  closed1hMs: z.number().nullable(),
  /** ROLLUP_1M sequence of the first minute of the oldest open hour (0: nothing to read back). */
  rollup1mSeq: z.number().int().min(0),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;

export const EMPTY_CHECKPOINT: Checkpoint = {
  orderedSeq: 0,
  closed1mMs: null,
  closed1hMs: null,
  rollup1mSeq: 0,
};

/** The checkpoint in a JetStream KV bucket (one key per worker). */
export class CheckpointStore {
  private constructor(
    private readonly kv: KV,
    private readonly key: string,
  ) {}

  static async open(
    js: JetStreamClient,
    bucket: string,
    key: string,
    replicas = 1,
  ): Promise<CheckpointStore> {
    return new CheckpointStore(await openKvBucket(js, bucket, { replicas }), key);
  }

  /** The stored checkpoint; the empty one when none is stored. A corrupt one is an error: never guess. */
  async load(): Promise<Checkpoint> {
    const entry = await this.kv.get(this.key);
    if (!entry || entry.length === 0) return { ...EMPTY_CHECKPOINT };
    return CheckpointSchema.parse(JSON.parse(entry.string()));
  }

  async save(cp: Checkpoint): Promise<void> {
    await this.kv.put(this.key, JSON.stringify(cp));
  }
}
