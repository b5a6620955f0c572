import type { MqttClient } from 'mqtt';

type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: () => void, ...rest: unknown[]) => void;

/**
 * Lets an MQTT 5 bridge store up to `receiveMaximum` QoS 1 messages at once instead of one at a time, and still
 * send each PUBACK only once its message is stored, in the order the PUBLISHes arrived (MQTT 5 §4.6).
 *
 * mqtt.js reads the next PUBLISH only after the PUBACK of the previous one has been written, so a bridge that
 * withholds the PUBACK until the JetStream PubAck waits one round trip per message. mqtt.js has no public hook
 * to separate "read the next packet" from "write this PUBACK": this wraps the client's packet writer (its
 * private `_sendPacket`, pinned by the mqtt version range and by the tests of this file's callers), so that a
 * tracked PUBACK releases the reader at once and is written when its message is stored.
 */
export class OrderedAcks {
  private readonly stored = new Map<number, Promise<boolean>>();
  private chain: Promise<void> = Promise.resolve();
  /** Counts connections: a PUBACK is only ever written on the connection its PUBLISH came on. */
  private connection = 0;

  constructor(client: MqttClient) {
    const target = client as unknown as { _sendPacket?: SendPacket };
    if (typeof target._sendPacket !== 'function')
      throw new Error('this mqtt.js has no _sendPacket: OrderedAcks needs updating');
    const send = target._sendPacket.bind(client);
    // after a reconnect the broker resends what it holds unacknowledged, under packet ids it may have given to
    // other messages: a PUBACK held from the old connection could acknowledge one the bridge never stored
    client.on('close', () => {
      this.connection++;
      this.stored.clear();
    });
    target._sendPacket = (packet, cb, ...rest) => {
      const done = packet.cmd === 'puback' ? this.stored.get(packet.messageId ?? -1) : undefined;
      if (!done) return send(packet, cb, ...rest);
      this.stored.delete(packet.messageId ?? -1);
      cb?.(); // mqtt.js reads the next PUBLISH now
      const connection = this.connection;
      // in arrival order; an unstored message (the bridge stopped) is never acknowledged: the broker resends it,
      // as it does every message whose connection closed first (stored twice, the stream keeps one)
      this.chain = this.chain.then(async () => {
        if ((await done) && connection === this.connection) send(packet, undefined, ...rest);
      });
    };
  }

  /** The PUBACK of `messageId` waits for `stored` to be true; false withholds it. */
  track(messageId: number, stored: Promise<boolean>): void {
    this.stored.set(messageId, stored);
  }

  /** Resolves once every tracked PUBACK is written or withheld. */
  async settled(): Promise<void> {
    await this.chain;
  }
}
