import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { openKvBucket } from '@busway/runtime';
import { busway } from '@busway/proto';

export type CommandRecord = busway.v1.ICommandRecord;

/** A record with the KV revision it was read at: the next write must be against it. */
export interface Stored {
  record: CommandRecord;
  revision: number;
}

/**
 * Every command's record in a JetStream KV bucket (key: the command id, value: a protobuf CommandRecord): the
 * worker's memory across redeliveries and restarts (a command id seen once is never delivered again), and what
 * GET /v1/commands/<id> reads. Writes are compare-and-set on the revision, so two replicas cannot both act.
 */
export class CommandStore {
  private constructor(private readonly kv: KV) {}

  static async open(js: JetStreamClient, bucket: string, ttlMs: number, replicas = 1): Promise<CommandStore> {
    return new CommandStore(await openKvBucket(js, bucket, { replicas, ttlMs }));
  }

  async get(commandId: string): Promise<Stored | undefined> {
    const e = await this.kv.get(commandId);
    if (!e || e.operation !== 'PUT') return undefined;
    return { record: busway.v1.CommandRecord.decode(e.value), revision: e.revision };
  }

  /** Stores a new record; undefined when the command already has one (another delivery got there first). */
  async create(commandId: string, record: CommandRecord): Promise<Stored | undefined> {
    try {
      const revision = await this.kv.create(commandId, busway.v1.CommandRecord.encode(record).finish());
      return { record, revision };
    } catch (err) {
      if (/wrong last sequence|key exists/i.test((err as Error).message)) return undefined;
      throw err;
    }
  }

  /** Replaces a record read at `revision`; throws when it changed since. */
  async update(commandId: string, stored: Stored): Promise<Stored> {
    const revision = await this.kv.update(
      commandId,
      busway.v1.CommandRecord.encode(stored.record).finish(),
      stored.revision,
    );
    return { record: stored.record, revision };
  }

  /** Every record (for recovery at start): commands are few, the bucket's TTL bounds them. */
  async *all(): AsyncGenerator<[string, Stored]> {
    const keys: string[] = [];
    for await (const k of await this.kv.keys()) keys.push(k);
    for (const k of keys) {
      const s = await this.get(k).catch(() => undefined);
      if (s) yield [k, s];
    }
  }
}
