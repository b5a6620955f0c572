import { createSocket } from 'node:dgram';
import bacnet, {
  ApplicationTag,
  ConfirmedServiceChoice,
  ErrorClass,
  ErrorCode,
  PropertyIdentifier,
  StatusFlagsBitString,
  type BACNetAppData,
  type BACnetMessageHeader,
  type BACNetObjectID,
  type BACNetReadAccess,
  type EngineeringUnits,
  type ObjectType,
  type StatusFlags,
} from '@bacnet-js/client';

// A BACnet/IP device for the tests: a second @bacnet-js/client instance on its own loopback UDP port that answers
// ReadPropertyMultiple, ReadProperty and SubscribeCOV from an in-memory object table and sends COV notifications.

type Client = InstanceType<typeof bacnet.default>;

export const HOST = '127.0.0.1';

/** Datagrams that make @bacnet-js/client 3.3's decoder throw (a RangeError each), found by fuzzing it. */
export const MALFORMED = [
  '810a000e01055aaf0459ae0358ad',
  '810a000a01100c080400',
  '810a00110155595d6165696d7175797d81',
  '810a000e01465c72889eb4cae0f6',
].map((hex) => Buffer.from(hex, 'hex'));

/** Sends datagrams from a throwaway socket. */
export async function sendDatagrams(port: number, datagrams: Buffer[]): Promise<void> {
  const socket = createSocket('udp4');
  for (const d of datagrams)
    await new Promise<void>((resolve) => socket.send(d, port, HOST, () => resolve()));
  await new Promise<void>((resolve) => socket.close(resolve));
}

export interface DeviceObject {
  type: ObjectType;
  instance: number;
  presentValue: BACNetAppData;
  units?: EngineeringUnits;
  statusFlags?: StatusFlags[];
}

interface Subscriber {
  address: string;
  processId: number;
  objectId: BACNetObjectID;
  confirmed: boolean;
  expiresAt: number;
}

/** What the device was asked, for the tests to assert on. */
export interface Seen {
  readPropertyMultiple: number;
  readProperty: number;
  /** UNITS reads by object key (`0:1`). */
  units: Map<string, number>;
  /** SubscribeCOV requests (not cancellations) by object key. */
  subscribe: Map<string, number>;
  cancel: Map<string, number>;
  /** Renewals that came after the subscription had lapsed. */
  lapsed: number;
}

const keyOf = (id: BACNetObjectID) => `${id.type}:${id.instance}`;
const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);
type Answer = { values: BACNetAppData[] } | { errorClass: ErrorClass; errorCode: ErrorCode };

/** A UDP port nothing listens on at the moment: bound, read and released. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, HOST, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

export class EmulatedDevice {
  readonly seen: Seen = {
    readPropertyMultiple: 0,
    readProperty: 0,
    units: new Map(),
    subscribe: new Map(),
    cancel: new Map(),
    lapsed: 0,
  };
  readonly subscribers = new Map<string, Subscriber>();
  private readonly objects = new Map<string, DeviceObject>();

  private constructor(
    private readonly client: Client,
    readonly port: number,
    readonly deviceInstance: number,
    objects: DeviceObject[],
    readMultiple: boolean,
  ) {
    for (const o of objects) this.objects.set(keyOf(o), o);
    client.on('error', () => undefined);
    if (readMultiple) client.on('readPropertyMultiple', (c: ReadMultipleContent) => this.onReadMultiple(c));
    client.on('readProperty', (c: ReadPropertyContent) => this.onReadProperty(c));
    client.on('subscribeCov', (c: SubscribeContent) => this.onSubscribeCov(c));
  }

  /** Without `readMultiple` the device rejects ReadPropertyMultiple as an unrecognized service. */
  static async start(
    deviceInstance: number,
    objects: DeviceObject[],
    opts: { readMultiple?: boolean; apduTimeoutMs?: number } = {},
  ): Promise<EmulatedDevice> {
    for (let attempt = 1; ; attempt++) {
      const port = await freeUdpPort();
      const client = new bacnet.default({
        port,
        interface: HOST,
        reuseAddr: false,
        apduTimeout: opts.apduTimeoutMs ?? 1000,
      });
      const bound = await new Promise<boolean>((resolve) => {
        client.once('listening', () => resolve(true));
        client.once('error', () => resolve(false));
      });
      if (bound) return new EmulatedDevice(client, port, deviceInstance, objects, opts.readMultiple ?? true);
      client.close(); // the port was taken between finding and binding it
      if (attempt >= 5) throw new Error('no free UDP port for an emulated BACnet device');
    }
  }

  get address(): string {
    return `${HOST}:${this.port}`;
  }

  /** Changes an object and notifies its subscribers; resolves with each confirmed notification's outcome. */
  async change(type: ObjectType, instance: number, patch: Partial<DeviceObject>): Promise<string[]> {
    const object = this.objects.get(keyOf({ type, instance }));
    if (!object) throw new Error(`no object ${type}:${instance}`);
    Object.assign(object, patch);
    return Promise.all(
      [...this.subscribers.values()]
        .filter((s) => keyOf(s.objectId) === keyOf(object))
        .map((s) => this.notify(s, object)),
    );
  }

  close(): void {
    this.client.close();
  }

  private answer(id: BACNetObjectID, property: number): Answer {
    const object = this.objects.get(keyOf(id));
    if (!object) return { errorClass: ErrorClass.OBJECT, errorCode: ErrorCode.UNKNOWN_OBJECT };
    if (property === PropertyIdentifier.PRESENT_VALUE) return { values: [object.presentValue] };
    if (property === PropertyIdentifier.STATUS_FLAGS)
      return {
        values: [
          { type: ApplicationTag.BIT_STRING, value: new StatusFlagsBitString(...(object.statusFlags ?? [])) },
        ],
      };
    if (property === PropertyIdentifier.UNITS && object.units !== undefined) {
      bump(this.seen.units, keyOf(id));
      return { values: [{ type: ApplicationTag.ENUMERATED, value: object.units }] };
    }
    return { errorClass: ErrorClass.PROPERTY, errorCode: ErrorCode.UNKNOWN_PROPERTY };
  }

  private onReadMultiple(content: ReadMultipleContent): void {
    this.seen.readPropertyMultiple++;
    const values: BACNetReadAccess[] = content.payload.properties.map(({ objectId, properties }) => ({
      objectId,
      values: properties.map((property) => {
        const a = this.answer(objectId, property.id);
        // the library encodes a per-property error from a value of this shape
        const value =
          'values' in a ? a.values : [{ type: ApplicationTag.ERROR, value: { type: 'BacnetError', ...a } }];
        return { property, value };
      }),
    }));
    if (content.header?.sender)
      this.client.readPropertyMultipleResponse(content.header.sender, content.invokeId ?? 0, values);
  }

  private onReadProperty(content: ReadPropertyContent): void {
    const sender = content.header?.sender;
    if (!sender) return;
    this.seen.readProperty++;
    const { objectId, property } = content.payload;
    const a = this.answer(objectId, property.id);
    if ('values' in a)
      this.client.readPropertyResponse(sender, content.invokeId ?? 0, objectId, property, a.values);
    else
      this.client.errorResponse(
        sender,
        ConfirmedServiceChoice.READ_PROPERTY,
        content.invokeId ?? 0,
        a.errorClass,
        a.errorCode,
      );
  }

  private onSubscribeCov(content: SubscribeContent): void {
    const sender = content.header?.sender;
    if (!sender?.address) return;
    const p = content.payload;
    const object = this.objects.get(keyOf(p.monitoredObjectId));
    const invokeId = content.invokeId ?? 0;
    if (!object) {
      bump(this.seen.subscribe, keyOf(p.monitoredObjectId));
      this.client.errorResponse(
        sender,
        ConfirmedServiceChoice.SUBSCRIBE_COV,
        invokeId,
        ErrorClass.OBJECT,
        ErrorCode.UNKNOWN_OBJECT,
      );
      return;
    }
    const key = `${sender.address}#${p.subscriberProcessId}`;
    if (p.cancellationRequest) {
      bump(this.seen.cancel, keyOf(p.monitoredObjectId));
      this.subscribers.delete(key);
      this.client.simpleAckResponse(sender, ConfirmedServiceChoice.SUBSCRIBE_COV, invokeId);
      return;
    }
    bump(this.seen.subscribe, keyOf(p.monitoredObjectId));
    const earlier = this.subscribers.get(key);
    if (earlier && earlier.expiresAt < Date.now()) this.seen.lapsed++;
    const subscriber: Subscriber = {
      address: sender.address,
      processId: p.subscriberProcessId,
      objectId: p.monitoredObjectId,
      confirmed: p.issueConfirmedNotifications,
      expiresAt: Date.now() + p.lifetime * 1000,
    };
    this.subscribers.set(key, subscriber);
    this.client.simpleAckResponse(sender, ConfirmedServiceChoice.SUBSCRIBE_COV, invokeId);
    // ASHRAE 135 13.1: a new subscription gets the current value at once
    if (!earlier) setImmediate(() => void this.notify(subscriber, object));
  }

  private async notify(s: Subscriber, object: DeviceObject): Promise<string> {
    const receiver = { address: s.address };
    const remainingS = Math.max(0, Math.round((s.expiresAt - Date.now()) / 1000));
    const values = [
      { property: { id: PropertyIdentifier.PRESENT_VALUE }, value: [object.presentValue] },
      {
        property: { id: PropertyIdentifier.STATUS_FLAGS },
        value: [
          { type: ApplicationTag.BIT_STRING, value: new StatusFlagsBitString(...(object.statusFlags ?? [])) },
        ],
      },
    ];
    if (!s.confirmed) {
      this.client.unconfirmedCOVNotification(
        receiver,
        s.processId,
        this.deviceInstance,
        s.objectId,
        remainingS,
        values,
      );
      return 'sent';
    }
    try {
      await this.client.confirmedCOVNotification(
        receiver,
        s.objectId,
        s.processId,
        this.deviceInstance,
        remainingS,
        values,
      );
      return 'acknowledged';
    } catch (err) {
      return (err as Error).message;
    }
  }
}

interface Header {
  header?: BACnetMessageHeader;
  invokeId?: number;
}
type ReadMultipleContent = Header & {
  payload: { properties: { objectId: BACNetObjectID; properties: { id: number; index: number }[] }[] };
};
type ReadPropertyContent = Header & {
  payload: { objectId: BACNetObjectID; property: { id: number; index: number } };
};
type SubscribeContent = Header & {
  payload: {
    subscriberProcessId: number;
    monitoredObjectId: BACNetObjectID;
    cancellationRequest?: boolean;
    issueConfirmedNotifications: boolean;
    lifetime: number;
  };
};
