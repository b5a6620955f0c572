// Where event objects end, whichever way they came (poll or webhook): published once per revision as grid
// signals, or dead-lettered with the reason; a deleted event's signals are published again as CANCELLED.
import { nowNs } from '@busway/proto';
import type { WorkerRuntime } from '@busway/runtime';
import type { IngestOpenadrConfig } from './config.js';
import { cancellationOf, decodeEvent, type DecodedEvent, type Reject } from './decode.js';
import type { EventStore } from './event-store.js';
import type { ProgramCache } from './programs.js';
import { deadLetterObject, publishSignals, STAGE } from './publish.js';
import { contentHash } from './revision.js';
import { msOf } from './time.js';

/** What became of one event object. */
export interface Accepted {
  outcome: 'published' | 'duplicate' | 'refused';
  eventId?: string;
}

/** Something that wants to know each new revision (the report scheduler). */
export interface RevisionListener {
  revised(event: DecodedEvent): void;
  withdrawn(eventId: string): void;
}

/** Fingerprints of unidentifiable objects already dead-lettered, so a poll does not repeat them. */
const MAX_REMEMBERED_REFUSALS = 10_000;

export class EventSink {
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly refusedUnidentified = new Set<string>();
  private readonly origin: (eventId?: string) => string;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly config: IngestOpenadrConfig & { vtnUrl: string },
    private readonly store: EventStore,
    private readonly programs: ProgramCache,
    private readonly fetchProgram: (id: string) => Promise<void>,
    private readonly listener?: RevisionListener,
  ) {
    this.origin = (eventId) => `${config.vtnUrl}/events${eventId ? `/${eventId}` : ''}`;
  }

  /** Publishes a revision not seen before; TransientError when JetStream did not store it (nothing recorded). */
  async accept(raw: unknown): Promise<Accepted> {
    const id = (raw as { id?: unknown } | null)?.id;
    return this.serialized(typeof id === 'string' ? id : '', () => this.acceptNow(raw));
  }

  /** The event id and revision of an object this sink has not published yet; undefined when it has. */
  freshRevision(raw: unknown): { eventId?: string; revision?: string; modificationMs?: number } | undefined {
    const r = decodeEvent(raw, {
      vtnId: this.config.vtnId,
      vtnUrl: this.config.vtnUrl,
      ingestTimeNs: nowNs(),
    });
    const eventId = r.ok ? r.event.eventId : r.eventId;
    const revision = r.ok ? r.event.revision : r.revision;
    if (eventId && revision && this.store.get(eventId)?.revision === revision) return undefined;
    return {
      ...(eventId ? { eventId } : {}),
      ...(revision ? { revision } : {}),
      ...(r.ok ? { modificationMs: msOf(r.event.modificationNs) } : {}),
    };
  }

  /** The event was deleted at the VTN: its last published signals again, as CANCELLED. */
  async cancel(eventId: string): Promise<boolean> {
    return this.serialized(eventId, () => this.cancelNow(eventId));
  }

  /**
   * After a full read: a known event the VTN no longer lists was deleted. One that ended before it
   * vanished (a VTN pruning its history) is forgotten without a signal.
   */
  async vanished(listed: Set<string>): Promise<number> {
    let cancelled = 0;
    for (const eventId of this.store.ids()) {
      if (listed.has(eventId)) continue;
      const known = this.store.get(eventId);
      if (known && !known.refused && (known.endMs === undefined || known.endMs > Date.now())) {
        if (await this.cancel(eventId)) cancelled++;
      } else await this.serialized(eventId, () => this.forget(eventId));
    }
    return cancelled;
  }

  /** After a restart: the report scheduler learns the events it had planned reports for. */
  resume(): void {
    for (const eventId of this.store.ids()) {
      const known = this.store.get(eventId);
      if (!known || known.refused) continue;
      const result = decodeEvent(known.object, {
        vtnId: this.config.vtnId,
        vtnUrl: this.config.vtnUrl,
        ingestTimeNs: nowNs(),
      });
      if (result.ok) this.listener?.revised(result.event);
    }
  }

  /** Signals of one event id are handled one revision at a time, whether they come by poll or callback. */
  private async serialized<T>(eventId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(eventId) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.chains.set(eventId, next);
    try {
      return await next;
    } finally {
      if (this.chains.get(eventId) === next) this.chains.delete(eventId);
    }
  }

  private async acceptNow(raw: unknown): Promise<Accepted> {
    const programId = (raw as { programID?: unknown } | null)?.programID;
    if (typeof programId === 'string' && !this.programs.get(programId)) await this.fetchProgram(programId);
    const ingestTimeNs = nowNs();
    const result = decodeEvent(raw, {
      vtnId: this.config.vtnId,
      vtnUrl: this.config.vtnUrl,
      ...(typeof programId === 'string' && this.programs.get(programId)
        ? { program: this.programs.get(programId) }
        : {}),
      ingestTimeNs,
    });
    const eventId = result.ok ? result.event.eventId : result.eventId;
    const revision = result.ok ? result.event.revision : result.revision;
    const known = eventId ? this.store.get(eventId) : undefined;
    if (revision !== undefined && known?.revision === revision) {
      this.count('event-duplicate');
      return { outcome: 'duplicate', ...(eventId ? { eventId } : {}) };
    }
    if (!result.ok) return this.refuse(raw, result.reject, eventId, revision);
    const event = result.event;
    if (event.signals.length > 0)
      await publishSignals(
        this.rt,
        event.signals,
        {
          id: `openadr:${this.config.vtnId}:${event.eventId}:${event.revision}`,
          source: `/busway/ingest-openadr/${this.config.vtnId}`,
          time: new Date(msOf(event.modificationNs)).toISOString(),
        },
        this.config.publishTimeoutMs,
      );
    for (const [i, reject] of event.rejects.entries())
      await this.deadLetter(
        raw,
        reject,
        `openadr:${this.config.vtnId}:${event.eventId}:${event.revision}:reject:${i}`,
        event.eventId,
      );
    const ends = event.periods.map((p) => (p.endNs === undefined ? Infinity : msOf(p.endNs)));
    const endMs = ends.length > 0 && ends.every(Number.isFinite) ? Math.max(...ends) : undefined;
    await this.store.put(event.eventId, {
      revision: event.revision,
      object: raw,
      reportsSent: known?.reportsSent ?? [],
      ...(endMs === undefined ? {} : { endMs }),
    });
    // every payload refused: a refusal; no intervals at all: an (empty) publication
    const outcome = event.signals.length === 0 && event.rejects.length > 0 ? 'refused' : 'published';
    this.count(outcome === 'refused' ? 'event-refused' : 'event-published');
    this.listener?.revised(event);
    return {
      outcome,
      eventId: event.eventId,
    };
  }

  private async refuse(raw: unknown, reject: Reject, eventId?: string, revision?: string): Promise<Accepted> {
    if (eventId && revision) {
      await this.deadLetter(
        raw,
        reject,
        `openadr:${this.config.vtnId}:${eventId}:${revision}:refused`,
        eventId,
      );
      const known = this.store.get(eventId);
      await this.store.put(eventId, {
        revision,
        object: raw,
        refused: true,
        reportsSent: known?.reportsSent ?? [],
      });
      this.listener?.withdrawn(eventId);
    } else {
      // no identity to remember it by: its content is the identity
      const fingerprint = contentHash(raw ?? null, 16);
      if (this.refusedUnidentified.has(fingerprint)) {
        this.count('event-duplicate');
        return { outcome: 'duplicate' };
      }
      await this.deadLetter(raw, reject, `openadr:${this.config.vtnId}:unidentified:${fingerprint}`, eventId);
      if (this.refusedUnidentified.size >= MAX_REMEMBERED_REFUSALS) this.refusedUnidentified.clear();
      this.refusedUnidentified.add(fingerprint);
    }
    this.count('event-refused');
    return { outcome: 'refused', ...(eventId ? { eventId } : {}) };
  }

  private async deadLetter(raw: unknown, reject: Reject, id: string, eventId?: string): Promise<void> {
    const where = reject.intervalId === undefined ? '' : ` (interval ${reject.intervalId})`;
    await deadLetterObject(
      this.rt,
      {
        id,
        origin: this.origin(eventId),
        object: raw,
        reason: { code: reject.code, message: `${reject.message}${where}` },
      },
      this.config.publishTimeoutMs,
    );
  }

  private async cancelNow(eventId: string): Promise<boolean> {
    const known = this.store.get(eventId);
    if (!known || known.refused) {
      if (known) await this.forget(eventId);
      return false;
    }
    const result = decodeEvent(known.object, {
      vtnId: this.config.vtnId,
      vtnUrl: this.config.vtnUrl,
      ingestTimeNs: nowNs(),
      ...(this.programOf(known.object) ? { program: this.programOf(known.object) } : {}),
    });
    if (result.ok && result.event.signals.length > 0) {
      const ingestTimeNs = nowNs();
      await publishSignals(
        this.rt,
        cancellationOf(result.event.signals, ingestTimeNs),
        {
          id: `openadr:${this.config.vtnId}:${eventId}:cancelled:${known.revision}`,
          source: `/busway/ingest-openadr/${this.config.vtnId}`,
        },
        this.config.publishTimeoutMs,
      );
    }
    await this.forget(eventId);
    this.count('event-cancelled');
    return true;
  }

  private programOf(raw: unknown) {
    const programId = (raw as { programID?: unknown } | null)?.programID;
    return typeof programId === 'string' ? this.programs.get(programId) : undefined;
  }

  private async forget(eventId: string): Promise<void> {
    await this.store.delete(eventId);
    this.listener?.withdrawn(eventId);
  }

  private count(outcome: string): void {
    this.rt.metrics.messages.inc({ stage: STAGE, outcome });
  }
}
