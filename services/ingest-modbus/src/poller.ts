import type { RunningWorker, WorkerRuntime } from '@busway/runtime';
import type { IngestModbusConfig } from './config.js';
import { DevicePoller } from './device-poller.js';
import { closeSummaries, createSummaries, type PollSummaries } from './summaries.js';

/** Every configured device, each polled by its own independent loop. */
export class ModbusPoller {
  private readonly abort = new AbortController();
  private readonly summaries: PollSummaries;
  readonly devices: DevicePoller[];

  constructor(
    private readonly rt: WorkerRuntime,
    config: IngestModbusConfig,
  ) {
    this.summaries = createSummaries(rt.log);
    this.devices = config.devices.map(
      (d) =>
        new DevicePoller(
          rt,
          d,
          { maxGap: d.maxGap ?? config.maxGap, maxBlock: d.maxBlock ?? config.maxBlock },
          this.summaries,
          this.abort.signal,
        ),
    );
  }

  start(): void {
    if (this.devices.length === 0)
      this.rt.log.warn('no Modbus devices configured (devices / BUSWAY_DEVICES)');
    for (const d of this.devices) d.start();
  }

  /** Ends every loop: a cycle in progress finishes its reads (bounded by timeouts) and its publish. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.devices.map((d) => d.stopped()));
    closeSummaries(this.summaries);
  }
}

export function startIngestModbus(rt: WorkerRuntime, config: IngestModbusConfig): Promise<RunningWorker> {
  const poller = new ModbusPoller(rt, config);
  poller.start();
  return Promise.resolve({ stop: () => poller.stop() });
}
