import type { WorkerRuntime } from '@busway/runtime';
import type { IngestSnmpConfig } from './config.js';
import type { Summaries } from './summaries.js';
import { TargetPoller } from './target-poller.js';

/** Every configured target, each polled by its own independent loop. */
export class SnmpPoller {
  private readonly abort = new AbortController();
  readonly targets: TargetPoller[];

  constructor(rt: WorkerRuntime, config: IngestSnmpConfig, summaries: Summaries) {
    this.targets = config.targets.map(
      (t) => new TargetPoller(rt, t, config.maxOidsPerRequest, summaries, this.abort.signal),
    );
  }

  start(): void {
    for (const t of this.targets) t.start();
  }

  /** Ends every loop: a cycle in progress finishes its requests (bounded by timeouts) and its publish. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.targets.map((t) => t.stopped()));
  }
}
