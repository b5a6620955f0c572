import { messageOf, type RunningWorker, type WorkerRuntime } from '@busway/runtime';
import type { IngestBacnetConfig } from './config.js';
import { BacnetConnection, type CovNotification } from './connection.js';
import type { Subscription } from './cov.js';
import { DeviceBridge } from './device.js';
import { objectTypeOf } from './object-types.js';
import { closeSummaries, createSummaries, STAGE, type Summaries } from './summaries.js';

interface Route {
  device: DeviceBridge;
  subscription: Subscription;
}

/** Every configured device over one BACnet/IP socket; COV notifications routed by subscriber process id. */
export class BacnetBridge {
  private readonly abort = new AbortController();
  private readonly summaries: Summaries;
  private readonly routes = new Map<number, Route>();
  readonly devices: DeviceBridge[] = [];

  private constructor(
    private readonly rt: WorkerRuntime,
    readonly conn: BacnetConnection,
    config: IngestBacnetConfig,
  ) {
    this.summaries = createSummaries(rt.log);
    // process ids follow the config: after a restart, a subscription still alive on a device routes the same way
    let processId = 1;
    for (const d of config.devices) {
      const device = new DeviceBridge(
        rt,
        conn,
        d,
        processId,
        config.covQueueLimit,
        this.summaries,
        this.abort.signal,
      );
      for (const subscription of device.subscriptions.subscriptions)
        this.routes.set(subscription.processId, { device, subscription });
      processId += device.subscriptions.subscriptions.length;
      this.devices.push(device);
    }
    conn.onCovNotification((n) => this.route(n));
    conn.onMalformed((err, from) => {
      rt.metrics.messages.inc({ stage: STAGE, outcome: 'malformed-datagram' });
      this.summaries.malformed.add(from);
      rt.log.debug({ from, err: messageOf(err) }, 'malformed BACnet/IP datagram dropped');
    });
  }

  static async start(rt: WorkerRuntime, config: IngestBacnetConfig): Promise<BacnetBridge> {
    const apduTimeoutMs = Math.max(1000, ...config.devices.map((d) => d.timeoutMs));
    const conn = await BacnetConnection.open(
      { port: config.port, bindAddress: config.bindAddress, apduTimeoutMs },
      rt.log,
    );
    const bridge = new BacnetBridge(rt, conn, config);
    rt.log.info({ port: conn.localPort, devices: bridge.devices.length }, 'BACnet/IP socket bound');
    if (bridge.devices.length === 0) rt.log.warn('no BACnet devices configured (devices / BUSWAY_DEVICES)');
    for (const d of bridge.devices) d.start();
    return bridge;
  }

  /** Cancels the COV subscriptions, ends every loop (each publishes what it holds first), closes the socket. */
  async stop(): Promise<void> {
    await Promise.all(this.devices.map((d) => d.subscriptions.stop()));
    this.abort.abort();
    await Promise.all(this.devices.map((d) => d.stopped()));
    this.conn.close();
    closeSummaries(this.summaries);
  }

  private route(n: CovNotification): void {
    const route = this.routes.get(n.processId);
    const problem = route ? mismatchOf(n, route) : `no subscription has process id ${n.processId}`;
    if (route && problem === undefined) return route.device.inbox.push(n, route.subscription);
    // a subscription of an earlier run or of another subscriber on this port: it lapses by its lifetime
    this.rt.metrics.messages.inc({ stage: STAGE, outcome: 'cov-unsolicited' });
    this.summaries.covUnsolicited.add(n.sender);
    this.rt.log.debug({ sender: n.sender, processId: n.processId, problem }, 'COV notification ignored');
  }
}

/** Why a notification is not the subscription's its process id names, if it is not. */
function mismatchOf(n: CovNotification, { device, subscription }: Route): string | undefined {
  const { address, deviceInstance } = device.device;
  const { object } = subscription;
  if (n.sender !== address) return `sent by ${n.sender}, not ${address}`;
  if (n.objectId.type !== objectTypeOf(object.type) || n.objectId.instance !== object.instance)
    return `about object ${n.objectId.type}:${n.objectId.instance}, not ${object.type}:${object.instance}`;
  if (n.initiatingDevice !== undefined && n.initiatingDevice !== deviceInstance)
    return `from device instance ${n.initiatingDevice}, not ${deviceInstance}`;
  return undefined;
}

export async function startIngestBacnet(
  rt: WorkerRuntime,
  config: IngestBacnetConfig,
): Promise<RunningWorker> {
  const bridge = await BacnetBridge.start(rt, config);
  return { stop: () => bridge.stop() };
}
