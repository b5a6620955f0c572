import { PollDelivery, type Logger, type WorkerRuntime } from '@busway/runtime';
import type { DeviceConfig } from './config.js';
import type { BacnetConnection } from './connection.js';
import { CovInbox } from './cov-inbox.js';
import { CovSubscriptions, type Subscription } from './cov.js';
import { DevicePoller } from './poller.js';
import { DeviceReader } from './read.js';
import { DeviceSampler } from './sampler.js';
import { StampClock } from './sample.js';
import { WORKER, type Summaries } from './summaries.js';

/** One device: its poll loop, its COV subscriptions and the queue of its notifications, sharing units and faults. */
export class DeviceBridge {
  readonly subscriptions: CovSubscriptions;
  readonly inbox: CovInbox;
  private readonly poller: DevicePoller;
  private readonly log: Logger;

  constructor(
    rt: WorkerRuntime,
    conn: BacnetConnection,
    readonly device: DeviceConfig,
    firstProcessId: number,
    covQueueLimit: number,
    summaries: Summaries,
    signal: AbortSignal,
  ) {
    this.log = rt.log.child({ device: device.id });
    const sampler = new DeviceSampler(device);
    const clock = new StampClock();
    const delivery = new PollDelivery(
      rt,
      {
        protocol: 'bacnet',
        worker: WORKER,
        id: device.id,
        address: device.address,
        pollIntervalMs: device.pollIntervalMs,
        maxBackoffMs: device.maxBackoffMs,
      },
      summaries,
      signal,
      this.log,
    );
    const subscriptions: Subscription[] = device.objects
      .filter((o) => o.cov)
      .map((object, i) => ({ object, processId: firstProcessId + i }));
    this.inbox = new CovInbox(
      rt,
      device,
      { conn, sampler, delivery, clock, summaries, log: this.log },
      covQueueLimit,
    );
    this.subscriptions = new CovSubscriptions(conn, device, subscriptions, {
      rt,
      log: this.log,
      summaries,
      fault: (f) => this.inbox.fault(f),
    });
    this.poller = new DevicePoller(
      rt,
      device,
      { reader: new DeviceReader(conn, device, this.log), sampler, delivery, clock },
      summaries,
      signal,
      this.log,
      () => this.subscriptions.start(),
    );
  }

  start(): void {
    this.log.info(
      {
        address: this.device.address,
        deviceInstance: this.device.deviceInstance,
        objects: this.device.objects.length,
        cov: this.subscriptions.subscriptions.length,
      },
      'polling BACnet device',
    );
    this.inbox.start();
    this.poller.start();
  }

  /** After the bridge's abort: the poll cycle in hand and the queued notifications are published first. */
  async stopped(): Promise<void> {
    await Promise.all([this.poller.stopped(), this.inbox.stop()]);
  }
}
