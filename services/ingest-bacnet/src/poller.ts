import { type busway, nowNs } from '@busway/proto';
import {
  backoffMs,
  messageOf,
  nextPollAt,
  sleep,
  type Logger,
  type PollDelivery,
  type PollFault,
  type WorkerRuntime,
} from '@busway/runtime';
import type { DeviceConfig } from './config.js';
import type { DeviceReader } from './read.js';
import { objectKeyOf, type Stamp, type StampClock } from './sample.js';
import type { DeviceSampler } from './sampler.js';
import { STAGE, type Summaries } from './summaries.js';

interface Cycle {
  stamp: Stamp;
  samples: busway.v1.ISample[];
  faults: PollFault[];
  original: unknown[];
  unreachable?: string;
}

export interface PollerParts {
  reader: DeviceReader;
  sampler: DeviceSampler;
  delivery: PollDelivery;
  clock: StampClock;
}

/**
 * Polls one device in its own loop: read every object, publish one SampleBatch, wait for the PubAck, sleep to the
 * next tick. Devices share nothing but the socket and the NATS connection, so a slow or dead device delays only
 * itself; its next poll waits for its previous publish, so it holds at most one cycle while JetStream is slow.
 */
export class DevicePoller {
  private failures = 0;
  private loop?: Promise<void>;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly device: DeviceConfig,
    private readonly parts: PollerParts,
    private readonly summaries: Summaries,
    private readonly signal: AbortSignal,
    private readonly log: Logger,
    private readonly afterFirstPoll: () => void,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** Resolves once the loop has ended (after abort): the cycle in hand is finished and published first. */
  async stopped(): Promise<void> {
    await this.loop;
  }

  private async run(): Promise<void> {
    let scheduled = Date.now();
    let first = true;
    while (!this.signal.aborted) {
      const cycle = await this.poll({ ms: this.parts.clock.next(), ingestTimeNs: nowNs() });
      const delivered = await this.parts.delivery.deliver({
        pollMs: cycle.stamp.ms,
        samples: cycle.samples,
        faults: cycle.faults,
        original: cycle.original,
      });
      if (!delivered) break;
      this.rt.metrics.batchSeconds.observe({ stage: STAGE }, (Date.now() - cycle.stamp.ms) / 1000);
      if (first) this.afterFirstPoll(); // units are known by now: COV samples carry them from the first
      first = false;
      scheduled = this.nextPoll(cycle, scheduled);
      await sleep(scheduled - Date.now(), this.signal);
    }
  }

  private async poll(stamp: Stamp): Promise<Cycle> {
    const { reader, sampler } = this.parts;
    const objects = this.device.objects;
    const faults: PollFault[] = [];
    try {
      const { reads, original, unreachable } = await reader.read(objects, (o) => sampler.needsUnits(o));
      const samples = objects.map((o) => sampler.sample(stamp, o, reads.get(objectKeyOf(o)), faults));
      return { stamp, samples, faults, original, unreachable };
    } catch (err) {
      // a bug, not a device problem: keep polling, but loudly and with backoff
      this.log.error({ err }, 'poll cycle failed unexpectedly');
      const samples = objects.map((o) => sampler.sample(stamp, o, undefined, faults));
      return { stamp, samples, faults, original: [], unreachable: messageOf(err) };
    }
  }

  /** The next poll time: on the interval grid when the device answered, after a backoff when not. */
  private nextPoll(cycle: Cycle, scheduled: number): number {
    const now = Date.now();
    const { id, pollIntervalMs, maxBackoffMs } = this.device;
    if (cycle.unreachable !== undefined) {
      this.failures++;
      this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'read-failed' });
      this.summaries.readFailures.add(id);
      const waitMs = backoffMs(this.failures, pollIntervalMs, maxBackoffMs);
      if (this.failures === 1)
        this.log.warn({ err: cycle.unreachable, waitMs }, 'device does not answer; backing off');
      return now + waitMs;
    }
    if (this.failures > 0) this.log.info({ failures: this.failures }, 'device answers again');
    this.failures = 0;
    const { atMs, skipped } = nextPollAt(scheduled, pollIntervalMs, now);
    if (skipped > 0) {
      this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'poll-skipped' }, skipped);
      this.summaries.skippedPolls.add(id, skipped);
    }
    return atMs;
  }
}
