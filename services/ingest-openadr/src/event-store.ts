import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { openKvBucket } from '@busway/runtime';

/** What the VEN remembers of one event, across restarts. */
export interface KnownEvent {
  /** The revision last published (or refused): a re-read of it is a duplicate. */
  revision: string;
  /** The event object as the VTN served it: its signals are re-derived for a cancellation or a report. */
  object: unknown;
  /** The revision was refused as a whole (dead-lettered), so nothing of it was published. */
  refused?: boolean;
  /** reportName of every report the VTN has accepted for this event. */
  reportsSent: string[];
  /** End of the event's last interval (ms), when known: an event that vanishes after it ended is forgotten quietly. */
  endMs?: number;
}

/**
 * Published event revisions and sent reports in a JetStream KV bucket (key `<vtnId>.<eventId>`), so a
 * restarted VEN neither republishes what it published before the JetStream duplicate window nor misses a
 * cancellation that happened while it was down. Written only after the PubAck of what it records.
 */
export class EventStore {
  private readonly known = new Map<string, KnownEvent>();

  private constructor(
    private readonly kv: KV,
    private readonly vtnId: string,
  ) {}

  static async open(js: JetStreamClient, bucket: string, vtnId: string, replicas = 1): Promise<EventStore> {
    const store = new EventStore(await openKvBucket(js, bucket, { replicas }), vtnId);
    await store.load();
    return store;
  }

  get(eventId: string): KnownEvent | undefined {
    return this.known.get(eventId);
  }

  ids(): string[] {
    return [...this.known.keys()];
  }

  // memory first: a read-modify-write by the report scheduler while the KV write is in flight sees it
  async put(eventId: string, known: KnownEvent): Promise<void> {
    this.known.set(eventId, known);
    await this.kv.put(this.keyOf(eventId), JSON.stringify(known));
  }

  async delete(eventId: string): Promise<void> {
    this.known.delete(eventId);
    await this.kv.delete(this.keyOf(eventId));
  }

  // event ids are [a-zA-Z0-9_-] (the document's objectID), valid KV key tokens as they are
  private keyOf(eventId: string): string {
    return `${this.vtnId}.${eventId}`;
  }

  private async load(): Promise<void> {
    const prefix = `${this.vtnId}.`;
    const keys: string[] = [];
    for await (const k of await this.kv.keys(`${prefix}>`)) keys.push(k);
    for (const k of keys) {
      const e = await this.kv.get(k);
      if (!e || e.operation !== 'PUT') continue;
      try {
        this.known.set(k.slice(prefix.length), e.json<KnownEvent>());
      } catch {
        continue; // unreadable memory: the next read republishes under the same dedup ids
      }
    }
  }
}
