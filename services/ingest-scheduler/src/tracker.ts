import type { EventDelivery } from './delivery.js';
import type { JobStore } from './job-store.js';
import { stepsFor, vanishedStep, type JobView } from './lifecycle.js';

/**
 * A source's jobs: each view read from the API is compared with what was published for that job; the new
 * steps are published (JetStream PubAck first), and only then remembered. A crash in between publishes them
 * again on restart under the same dedup ids, which JetStream's duplicate window drops.
 */
export class JobTracker {
  constructor(
    private readonly store: JobStore,
    private readonly delivery: EventDelivery,
    private readonly emitQueued: boolean,
  ) {}

  /** Publishes what the view adds; false when the bridge stopped before it was stored. */
  async apply(view: JobView, sequence?: number): Promise<boolean> {
    const before = this.store.get(view.key);
    const { steps, record } = stepsFor(view, before, this.emitQueued);
    if (steps.length > 0) {
      const events = steps.map((s) => this.delivery.eventOf(view.key, record, s, sequence));
      if (!(await this.delivery.publish(events))) return false;
    }
    if (before && JSON.stringify(before) === JSON.stringify(record)) return true;
    return this.delivery.retry(() => this.store.put(view.key, record));
  }

  /** The job is gone from the API: a job not yet ended gets an inferred end; then it is forgotten. */
  async vanished(key: string): Promise<boolean> {
    const record = this.store.get(key);
    if (!record) return true;
    const step = vanishedStep(record);
    if (step && !(await this.delivery.publish([this.delivery.eventOf(key, record, step)]))) return false;
    return this.forget(key);
  }

  async forget(key: string): Promise<boolean> {
    if (!this.store.get(key)) return true;
    return this.delivery.retry(() => this.store.remove(key));
  }

  /** Every job remembered. */
  keys(): string[] {
    return this.store.keys();
  }
}
