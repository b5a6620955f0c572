import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '@busway/runtime';
import { CommandRefused, DeliveryError, RefusalCode } from '../errors.js';

type Handler = (topic: string, payload: Buffer) => void;

/**
 * The command worker's own MQTT 5 session (its own client id and broker ACL: the ingest bridges stay read-only).
 * Commands go out at QoS 0 with an MQTT 5 message expiry: a QoS 1 publish that is not acknowledged is sent
 * again after a reconnect, which could deliver a setpoint late; QoS 0 is sent once, on a live connection,
 * or not at all, and the broker drops it when it expires. Whether it took effect is what confirmation tells.
 */
export class MqttLink {
  private readonly handlers: { filter: string; handle: Handler }[] = [];

  private constructor(
    private readonly client: MqttClient,
    private readonly log: Logger,
  ) {
    client.on('message', (topic, payload) => {
      for (const h of this.handlers) if (matches(h.filter, topic)) h.handle(topic, payload);
    });
    client.on('connect', () => {
      log.info('MQTT connected');
      // clean sessions: subscriptions are made again on every connect (retained metadata comes back with them)
      for (const h of this.handlers) void this.subscribeOnce(h.filter);
    });
    client.on('offline', () => log.warn('MQTT disconnected: MQTT commands are refused until it is back'));
    client.on('error', (err) => log.warn({ err: err.message }, 'MQTT error'));
  }

  /** Connects in the background; waits up to `waitMs` for the first connection, so the worker starts either way. */
  static async connect(url: string, clientId: string, log: Logger, waitMs = 5000): Promise<MqttLink> {
    const client = mqtt.connect(url, {
      clientId,
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      queueQoSZero: false, // never hold a command for a later connection
    });
    const link = new MqttLink(client, log.child({ component: 'mqtt' }));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      client.once('connect', () => (clearTimeout(timer), resolve()));
    });
    return link;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Routes messages matching `filter` to `handle`, now and after every reconnect. */
  async subscribe(filter: string, handle: Handler): Promise<void> {
    this.handlers.push({ filter, handle });
    if (this.client.connected) await this.subscribeOnce(filter);
  }

  private async subscribeOnce(filter: string): Promise<void> {
    try {
      await this.client.subscribeAsync(filter, { qos: 1 });
    } catch (err) {
      this.log.warn({ err: (err as Error).message, filter }, 'MQTT subscribe failed');
    }
  }

  /** Publishes a command once, at QoS 0, expiring at `deadlineMs`; refuses when too late or disconnected. */
  async publishCommand(topic: string, payload: Buffer, deadlineMs: number): Promise<void> {
    const expirySeconds = Math.floor((deadlineMs - Date.now()) / 1000);
    if (expirySeconds < 1)
      throw new CommandRefused(
        RefusalCode.Expired,
        'less than a second of the command lifetime is left: not sent',
      );
    if (!this.client.connected)
      throw new CommandRefused(RefusalCode.DeliveryUnavailable, 'the MQTT broker is not connected: not sent');
    try {
      await this.client.publishAsync(topic, payload, {
        qos: 0,
        retain: false, // a retained setpoint would reach a device that connects later: late by definition
        properties: { messageExpiryInterval: expirySeconds },
      });
    } catch (err) {
      throw new DeliveryError(
        RefusalCode.DeliveryFailed,
        `MQTT publish to ${topic} failed: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  async stop(): Promise<void> {
    await this.client.endAsync().catch(() => undefined);
  }
}

/** Whether an MQTT topic matches a filter with `+` and `#`. */
export function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}
