import { backoffMs, type Logger, type PollFault, type WorkerRuntime } from '@busway/runtime';
import { failureOf } from './bacnet-errors.js';
import type { DeviceConfig, ObjectConfig } from './config.js';
import type { BacnetConnection } from './connection.js';
import { objectFault } from './fault.js';
import { objectTypeOf } from './object-types.js';
import { objectKeyOf } from './sample.js';
import { STAGE, type Summaries } from './summaries.js';

/** One object's subscription; the process id routes its notifications back to it. */
export interface Subscription {
  object: ObjectConfig;
  processId: number;
}

export interface CovHooks {
  rt: WorkerRuntime;
  log: Logger;
  summaries: Summaries;
  /** A refused subscription, to dead-letter. */
  fault: (f: PollFault) => void;
}

const idOf = (object: ObjectConfig) => ({ type: objectTypeOf(object.type), instance: object.instance });

/**
 * A device's COV subscriptions: each is made at start and renewed at half its lifetime, so that a lost renewal is
 * retried before it lapses. While the device does not answer, retried with backoff; when it refuses (an unknown
 * object, COV not supported), dead-lettered once and asked again once per lifetime. Cancelled on stop.
 */
export class CovSubscriptions {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private readonly active = new Set<Subscription>();
  private readonly refused = new Set<number>();
  private readonly failures = new Map<number, number>();
  private stopping = false;

  constructor(
    private readonly conn: BacnetConnection,
    private readonly device: DeviceConfig,
    readonly subscriptions: readonly Subscription[],
    private readonly hooks: CovHooks,
  ) {}

  start(): void {
    for (const s of this.subscriptions) this.schedule(s, 0);
  }

  /** Stops renewing, then cancels every subscription the device accepted. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
    const cancelled = await Promise.allSettled(
      [...this.active].map((s) =>
        this.conn.subscribeCov(
          this.device.address,
          idOf(s.object),
          s.processId,
          { confirmed: s.object.covConfirmed, lifetimeS: 0, cancel: true },
          this.device.timeoutMs,
        ),
      ),
    );
    const failed = cancelled.filter((c) => c.status === 'rejected').length;
    if (cancelled.length > 0)
      this.hooks.log.info({ cancelled: cancelled.length - failed, failed }, 'COV subscriptions cancelled');
  }

  private schedule(s: Subscription, ms: number): void {
    if (this.stopping) return;
    const timer = setTimeout(() => {
      this.timers.delete(s.processId);
      const attempt = this.subscribe(s).finally(() => this.running.delete(attempt));
      this.running.add(attempt);
    }, ms);
    timer.unref();
    this.timers.set(s.processId, timer);
  }

  private async subscribe(s: Subscription): Promise<void> {
    const { object, processId } = s;
    const { rt, log, summaries } = this.hooks;
    try {
      await this.conn.subscribeCov(
        this.device.address,
        idOf(object),
        processId,
        { confirmed: object.covConfirmed, lifetimeS: object.covLifetimeS, cancel: false },
        this.device.timeoutMs,
      );
      rt.metrics.messages.inc({ stage: STAGE, outcome: 'cov-subscribed' });
      if (!this.active.has(s) || this.failures.has(processId))
        log.info(
          { object: objectKeyOf(object), processId, lifetimeS: object.covLifetimeS },
          'subscribed to COV',
        );
      this.active.add(s);
      this.failures.delete(processId);
      this.refused.delete(processId);
      this.schedule(s, object.covLifetimeS * 500);
    } catch (err) {
      const failure = failureOf(err);
      const n = (this.failures.get(processId) ?? 0) + 1;
      this.failures.set(processId, n);
      rt.metrics.messages.inc({ stage: STAGE, outcome: 'cov-subscribe-failed' });
      summaries.covSubscribeFailures.add(this.device.id);
      if (failure.kind === 'timeout' || failure.kind === 'other') {
        const capMs = Math.min(this.device.maxBackoffMs, object.covLifetimeS * 500);
        this.schedule(s, backoffMs(n, Math.min(1000, capMs), capMs));
        return;
      }
      if (!this.refused.has(processId)) {
        this.refused.add(processId);
        this.hooks.fault(
          objectFault(this.device, object, 'subscribe-cov', `SubscribeCOV refused: ${failure.message}`, {
            processId,
            confirmed: object.covConfirmed,
            lifetimeS: object.covLifetimeS,
          }),
        );
      }
      this.schedule(s, object.covLifetimeS * 1000);
    }
  }
}
