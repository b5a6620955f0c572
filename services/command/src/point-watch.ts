import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Redis } from 'ioredis';
import { busway, msFromTimeNs } from '@busway/proto';
import type { Logger } from '@busway/runtime';
import type { ResolvedPoint } from './rules.js';

/** The newest normalized value of a point, as the fabric reports it. */
export interface Reading {
  value: number | boolean;
  good: boolean;
  /** Event time, ms since the epoch. */
  timeMs: number;
}

/** The value of a normalized sample, or undefined for text and empty samples (never a setpoint). */
export function readingOf(s: busway.v1.ISample): Reading | undefined {
  const value =
    s.doubleValue ??
    (s.intValue != null ? Number(s.intValue.toString()) : undefined) ??
    s.boolValue ??
    undefined;
  if (value === undefined || (typeof value === 'number' && !Number.isFinite(value))) return undefined;
  return { value, good: s.quality === busway.v1.Quality.QUALITY_GOOD, timeMs: msFromTimeNs(s.eventTimeNs) };
}

/** A last value as fan-out keeps it in Redis (`busway:lv:v1:<UNS subject>`), or undefined. */
export function readingOfHash(h: Record<string, string>): Reading | undefined {
  if (h.timeNs === undefined || h.value === undefined) return undefined;
  let value: number | boolean;
  if (h.type === 'bool') value = h.value === 'true';
  else if (h.type === 'double' || h.type === 'int') value = Number(h.value);
  else return undefined;
  if (typeof value === 'number' && !Number.isFinite(value)) return undefined;
  return { value, good: h.quality === 'good', timeMs: Number(BigInt(h.timeNs) / 1_000_000n) };
}

type Listener = (pointId: string, reading: Reading) => void;

/**
 * Keeps the newest normalized value of every readback point: live from its subject (fan-out's UNS subject,
 * or the normalizer's NORM subject of its rack), seeded from fan-out's Redis last value. It says when a point is
 * blind (no value, stale, bad, or the live subscription is down): then no command to it is safe.
 */
export class PointWatch {
  private readonly latest = new Map<string, Reading>();
  private readonly subs = new Map<string, Subscription>();
  private watched = new Map<string, ResolvedPoint>();
  private readonly listeners: Listener[] = [];
  private live = true;

  constructor(
    private readonly nc: NatsConnection,
    private readonly redis: Redis,
    private readonly source: 'uns' | 'norm',
    private readonly log: Logger,
  ) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') this.live = false;
        else if (s.type === 'reconnect') this.live = true;
      }
    })();
  }

  onReading(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** Watches exactly these points (the readbacks of the current rules); subscriptions follow. */
  setPoints(points: readonly ResolvedPoint[]): void {
    this.watched = new Map(points.map((p) => [p.pointId, p]));
    const subjects = new Set(points.map((p) => this.subjectOf(p)));
    for (const [subject, sub] of this.subs)
      if (!subjects.has(subject)) {
        sub.unsubscribe();
        this.subs.delete(subject);
      }
    for (const subject of subjects) {
      if (this.subs.has(subject)) continue;
      const sub = this.nc.subscribe(subject, {
        callback: (err, msg) => {
          if (!err) this.receive(msg.data);
        },
      });
      this.subs.set(subject, sub);
    }
  }

  private subjectOf(p: ResolvedPoint): string {
    return this.source === 'uns' ? p.path : p.normSubject;
  }

  private receive(data: Uint8Array): void {
    let samples: busway.v1.ISample[];
    try {
      samples = busway.v1.SampleBatch.decode(data).samples;
    } catch {
      return; // not fabric data: the normalizer and fan-out dead-letter their own bad input
    }
    for (const s of samples) {
      if (!s.pointId || !this.watched.has(s.pointId)) continue;
      const r = readingOf(s);
      if (r) this.offer(s.pointId, r);
    }
  }

  /** Keeps a reading if it is the newest by event time, and tells the listeners. */
  offer(pointId: string, r: Reading): void {
    const cur = this.latest.get(pointId);
    if (cur && cur.timeMs > r.timeMs) return;
    this.latest.set(pointId, r);
    for (const l of this.listeners) l(pointId, r);
  }

  /** The newest value of a point: the live one, else fan-out's last value from Redis (after a restart). */
  async current(p: ResolvedPoint): Promise<Reading | undefined> {
    const known = this.latest.get(p.pointId);
    if (known) return known;
    try {
      const h = await this.redis.hgetall(`busway:lv:v1:${p.path}`);
      const r = readingOfHash(h);
      if (r && h.pointId === p.pointId) this.offer(p.pointId, r);
      return r && h.pointId === p.pointId ? r : undefined;
    } catch (err) {
      this.log.warn({ err: (err as Error).message, point: p.pointId }, 'last value unreadable in Redis');
      return undefined;
    }
  }

  /** Why the current value of a point cannot be trusted now, or undefined when it can. */
  async blindness(p: ResolvedPoint, maxAgeMs: number, nowMs: number): Promise<string | undefined> {
    if (!this.live || this.nc.isClosed()) return 'the readback subscription is disconnected from NATS';
    const r = await this.current(p);
    if (!r) return `no value of ${p.pointId} has been read yet`;
    if (!r.good) return `the last value of ${p.pointId} is not of good quality`;
    if (nowMs - r.timeMs > maxAgeMs)
      return `the last value of ${p.pointId} is ${Math.round((nowMs - r.timeMs) / 1000)} s old (more than ${maxAgeMs / 1000} s)`;
    return undefined;
  }

  close(): void {
    for (const sub of this.subs.values()) sub.unsubscribe();
    this.subs.clear();
  }
}
