import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { openKvBucket } from '@busway/runtime';
import type { MetricDef } from './decoder.js';

/** What a birth certificate taught the host about one node or device: its metrics by alias and its bdSeq. */
export interface StoredBirth {
  bdSeq?: number;
  metrics: (MetricDef & { alias?: number })[];
}

/** KV keys allow only [-/_=.a-zA-Z0-9]; Sparkplug ids may hold more, so keys are base64url of the source id. */
const keyOf = (sourceId: string) => Buffer.from(sourceId, 'utf8').toString('base64url');
const sourceIdOfKey = (key: string) => Buffer.from(key, 'base64url').toString('utf8');

/**
 * Births kept in a JetStream KV bucket, so a restarted (or rescheduled) host still resolves the aliases of
 * edge nodes that will not rebirth on their own: without it, every NDATA/DDATA after a restart would be
 * undecodable until a rebirth.
 */
export class BirthStore {
  private constructor(private readonly kv: KV) {}

  static async open(js: JetStreamClient, bucket: string, replicas = 1): Promise<BirthStore> {
    // history 1: only the current birth of each source matters
    return new BirthStore(await openKvBucket(js, bucket, { replicas }));
  }

  async save(sourceId: string, birth: StoredBirth): Promise<void> {
    await this.kv.put(keyOf(sourceId), JSON.stringify(birth));
  }

  /** Every stored birth by source id; an entry that does not parse is skipped (the node will rebirth). */
  async loadAll(): Promise<Map<string, StoredBirth>> {
    const out = new Map<string, StoredBirth>();
    const keys: string[] = [];
    for await (const k of await this.kv.keys()) keys.push(k);
    for (const k of keys) {
      const e = await this.kv.get(k);
      if (!e || e.operation !== 'PUT') continue;
      try {
        out.set(sourceIdOfKey(k), e.json<StoredBirth>());
      } catch {
        continue;
      }
    }
    return out;
  }
}
