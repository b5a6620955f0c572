import bacnet, {
  ASN1_ARRAY_ALL,
  ConfirmedServiceChoice,
  type BACNetAppData,
  type BACnetMessageHeader,
  type BACNetObjectID,
  type CovNotifyPayload,
} from '@bacnet-js/client';
import { ConfigError, messageOf, withTimeout, type Logger } from '@busway/runtime';
import type { AppValue } from './convert.js';
import { UdpTransport } from './transport.js';

type Client = InstanceType<typeof bacnet.default>;
type CovContent = { header?: BACnetMessageHeader; invokeId?: number; payload: CovNotifyPayload };

export interface ObjectId {
  type: number;
  instance: number;
}

export interface PropertyValues {
  propertyId: number;
  values: AppValue[];
}

export interface ReadRequest {
  objectId: ObjectId;
  propertyIds: number[];
}

export interface ReadAccessResult {
  objectId: ObjectId;
  properties: PropertyValues[];
}

/** A COV notification as it arrived, confirmed or not. */
export interface CovNotification {
  /** `ip:port` it came from. */
  sender: string;
  confirmed: boolean;
  /** What the acknowledgement of a confirmed notification names. */
  invokeId: number;
  processId: number;
  initiatingDevice: number | undefined;
  objectId: ObjectId;
  timeRemainingS: number;
  properties: PropertyValues[];
}

/** Requests in flight at once: the client's invoke ids (0–254) are shared by every device. */
const MAX_IN_FLIGHT = 200;

const appValuesOf = (values: readonly BACNetAppData[]): AppValue[] =>
  values.map((v) => ({ type: v.type, value: v.value as unknown }));

const objectIdOf = (id: ObjectId): BACNetObjectID => ({ type: id.type, instance: id.instance });

/** The library types the initiating device as a number but decodes it as an object identifier. */
function instanceOf(id: unknown): number | undefined {
  if (typeof id === 'number') return id;
  const instance = (id as { instance?: unknown } | null)?.instance;
  return typeof instance === 'number' ? instance : undefined;
}

/** A counting semaphore. */
class Slots {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {}

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** One BACnet/IP client on one UDP port, shared by every device: typed requests with timeouts, COV notifications. */
export class BacnetConnection {
  private readonly slots = new Slots(MAX_IN_FLIGHT);

  private constructor(
    private readonly client: Client,
    private readonly transport: UdpTransport,
  ) {}

  /** Binds the port; a port already taken fails here, at startup. */
  static async open(
    opts: { port: number; bindAddress: string; apduTimeoutMs: number },
    log: Logger,
  ): Promise<BacnetConnection> {
    const transport = new UdpTransport(opts.port, opts.bindAddress);
    let onError: (err: Error) => void = () => undefined;
    const bound = new Promise<void>((resolve, reject) => {
      onError = reject;
      transport.once('listening', () => resolve());
      transport.once('error', onError);
    });
    const client = new bacnet.default({ transport, apduTimeout: opts.apduTimeoutMs });
    client.on('error', (err: Error) => log.warn({ err: err.message }, 'BACnet/IP socket error'));
    try {
      await bound;
    } catch (err) {
      client.close();
      throw new ConfigError(
        `cannot bind UDP ${opts.bindAddress}:${opts.port} for BACnet/IP: ${messageOf(err)} (another BACnet stack on it? set port, BUSWAY_PORT)`,
      );
    } finally {
      transport.off('error', onError);
    }
    return new BacnetConnection(client, transport);
  }

  get localPort(): number {
    return this.transport.localPort;
  }

  async readMultiple(
    address: string,
    requests: ReadRequest[],
    timeoutMs: number,
  ): Promise<ReadAccessResult[]> {
    const spec = requests.map((r) => ({
      objectId: objectIdOf(r.objectId),
      properties: r.propertyIds.map((id) => ({ id, index: ASN1_ARRAY_ALL })),
    }));
    const answer = await this.request(
      () => this.client.readPropertyMultiple({ address }, spec),
      timeoutMs,
      `ReadPropertyMultiple to ${address}`,
    );
    return answer.values.map((o) => ({
      objectId: { type: o.objectId.type, instance: o.objectId.instance },
      properties: o.values.map((p) => ({ propertyId: p.id, values: appValuesOf(p.value) })),
    }));
  }

  async readProperty(
    address: string,
    objectId: ObjectId,
    propertyId: number,
    timeoutMs: number,
  ): Promise<PropertyValues & { objectId: ObjectId }> {
    const answer = await this.request(
      () => this.client.readProperty({ address }, objectIdOf(objectId), propertyId),
      timeoutMs,
      `ReadProperty to ${address}`,
    );
    return {
      objectId: { type: answer.objectId.type, instance: answer.objectId.instance },
      propertyId: answer.property.id,
      values: appValuesOf(answer.values),
    };
  }

  /** SubscribeCOV; `lifetimeS` 0 with `cancel` ends the subscription. */
  async subscribeCov(
    address: string,
    objectId: ObjectId,
    processId: number,
    opts: { confirmed: boolean; lifetimeS: number; cancel: boolean },
    timeoutMs: number,
  ): Promise<void> {
    await this.request(
      () =>
        this.client.subscribeCov(
          { address },
          objectIdOf(objectId),
          processId,
          opts.cancel,
          opts.confirmed,
          opts.lifetimeS,
        ),
      timeoutMs,
      `SubscribeCOV to ${address}`,
    );
  }

  onCovNotification(handler: (n: CovNotification) => void): void {
    const toNotification = (c: CovContent, confirmed: boolean): CovNotification | undefined => {
      const sender = c.header?.sender.address;
      if (sender === undefined) return undefined;
      return {
        sender,
        confirmed,
        invokeId: c.invokeId ?? 0,
        processId: c.payload.subscriberProcessId,
        initiatingDevice: instanceOf(c.payload.initiatingDeviceId),
        objectId: { type: c.payload.monitoredObjectId.type, instance: c.payload.monitoredObjectId.instance },
        timeRemainingS: c.payload.timeRemaining,
        properties: c.payload.values.map((v) => ({
          propertyId: v.property.id,
          values: appValuesOf(v.value),
        })),
      };
    };
    this.client.on('covNotifyUnconfirmed', (content: CovContent) => {
      const n = toNotification(content, false);
      if (n) handler(n);
    });
    this.client.on('covNotify', (content: CovContent) => {
      const n = toNotification(content, true);
      if (n) handler(n);
    });
  }

  /** A datagram the BACnet stack could not decode, and who sent it. */
  onMalformed(handler: (err: unknown, from: string) => void): void {
    this.transport.on('malformed', handler);
  }

  /** Acknowledges a confirmed COV notification. */
  ackCov(n: CovNotification): void {
    this.client.simpleAckResponse(
      { address: n.sender },
      ConfirmedServiceChoice.CONFIRMED_COV_NOTIFICATION,
      n.invokeId,
    );
  }

  close(): void {
    this.client.close();
  }

  private async request<T>(send: () => Promise<T>, timeoutMs: number, what: string): Promise<T> {
    await this.slots.acquire();
    try {
      return await withTimeout(send(), timeoutMs, what);
    } finally {
      this.slots.release();
    }
  }
}
