import { setTimeout as sleep } from 'node:timers/promises';
import {
  DataChangeNotification,
  MessageSecurityMode,
  OPCUAClient,
  SecurityPolicy,
  UserTokenType,
  type ClientSession,
  type ClientSubscription,
  type DataValue,
  type NotificationMessage,
  type OPCUACertificateManager,
  type UserIdentityInfo,
} from 'node-opcua';
import type { Logger } from '@busway/runtime';
import type { EndpointConfig } from './config.js';
import { monitorPoints, readUnits, subscriptionOptionsOf, type Point } from './subscribe.js';

/** How a session came back after its connection broke: the outcomes of node-opcua's repair. */
export type Reconnect = 'session-reactivated' | 'subscription-transferred' | 'subscription-recreated';

export interface MonitoredValue {
  point: Point;
  value: DataValue;
}

/** What a session tells the endpoint it serves. */
export interface SessionHooks {
  /** The values of one publish response. */
  onValues(values: MonitoredValue[]): void;
  /** A session event, counted as busway_messages_total{outcome}. */
  onEvent(event: Reconnect | 'connection-lost' | 'connect-failed'): void;
  /** node-opcua is about to try connecting again (summarized, not logged one by one). */
  onRetry(): void;
}

const APPLICATION_NAME = 'busway-ingest-opcua';

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function backoffMs(attempt: number, maxMs: number): number {
  return Math.min(maxMs, 250 * 2 ** Math.min(attempt - 1, 16));
}

/**
 * One endpoint's client, session and subscription. Opening retries with backoff until it succeeds or the bridge
 * stops; once open, node-opcua repairs a broken connection by itself (reactivate the session, else a new session
 * and TransferSubscriptions, else recreate the subscription and its monitored items), and this class only tells
 * which of the three happened.
 */
export class EndpointSession {
  private client?: OPCUAClient;
  private stopped = false;
  private readonly abort = new AbortController();
  private running?: Promise<void>;
  private sessionId = '';
  private recreated = false;
  private readonly points: Map<string, Point>;

  constructor(
    private readonly endpoint: EndpointConfig,
    points: Point[],
    private readonly certificates: OPCUACertificateManager,
    private readonly log: Logger,
    private readonly hooks: SessionHooks,
  ) {
    this.points = new Map(points.map((p) => [p.nodeId, p]));
  }

  start(): void {
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.client?.disconnect().catch(() => undefined);
    await this.running;
  }

  private async run(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await this.open();
        return;
      } catch (err) {
        if (this.stopped) return;
        this.hooks.onEvent('connect-failed');
        const delayMs = backoffMs(attempt, this.endpoint.maxBackoffMs);
        const untrusted = /BadCertificateUntrusted/.test(messageOf(err))
          ? `; to trust the server, move its certificate from ${this.certificates.rootDir}/rejected to trusted/certs`
          : '';
        this.log.warn(
          { err: messageOf(err), attempt, delayMs },
          `OPC UA session could not be opened; retrying${untrusted}`,
        );
        await this.client?.disconnect().catch(() => undefined);
        await sleep(delayMs, undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    }
  }

  private async open(): Promise<void> {
    const { url, publishingIntervalMs } = this.endpoint;
    const client = this.createClient();
    this.client = client;
    await client.connect(url);
    const session = await client.createSession(this.identity());
    this.checkStopped();
    this.watchSession(client, session);
    await readUnits(session, [...this.points.values()], this.log);
    const subscription = await session.createSubscription2(subscriptionOptionsOf(this.endpoint));
    this.checkStopped();
    subscription.on('received_notifications', (m: NotificationMessage) =>
      this.onNotification(subscription, m),
    );
    subscription.on('subscriptionId_changed', () => (this.recreated = true));
    subscription.on('status_changed', (status: { name: string }) =>
      this.log.warn({ status: status.name }, 'OPC UA subscription status changed'),
    );
    const accepted = await monitorPoints(subscription, [...this.points.values()], this.log);
    this.checkStopped();
    this.log.info(
      {
        subscriptionId: subscription.subscriptionId,
        publishingIntervalMs: subscription.publishingInterval,
        requestedPublishingIntervalMs: publishingIntervalMs,
        items: this.points.size,
        accepted,
      },
      'OPC UA subscription active',
    );
  }

  private checkStopped(): void {
    if (this.stopped) throw new Error('stopped');
  }

  private createClient(): OPCUAClient {
    const { securityMode, securityPolicy, sessionTimeoutMs, maxBackoffMs } = this.endpoint;
    const client = OPCUAClient.create({
      applicationName: APPLICATION_NAME,
      endpointMustExist: false,
      securityMode: MessageSecurityMode[securityMode],
      securityPolicy: SecurityPolicy[securityPolicy],
      clientCertificateManager: this.certificates,
      requestedSessionTimeout: sessionTimeoutMs,
      keepSessionAlive: true,
      // retry forever, first connect and reconnects alike: a PLC being rebooted must not need a bridge restart
      connectionStrategy: { maxRetry: -1, initialDelay: Math.min(250, maxBackoffMs), maxDelay: maxBackoffMs },
    });
    client.on('connection_lost', () => {
      this.hooks.onEvent('connection-lost');
      this.log.warn('OPC UA connection lost; reconnecting');
    });
    client.on('backoff', () => {
      this.hooks.onEvent('connect-failed');
      this.hooks.onRetry();
    });
    return client;
  }

  private identity(): UserIdentityInfo {
    const { user, password } = this.endpoint;
    if (user === undefined) return { type: UserTokenType.Anonymous };
    return { type: UserTokenType.UserName, userName: user, password: password ?? '' };
  }

  private watchSession(client: OPCUAClient, session: ClientSession): void {
    this.sessionId = session.sessionId.toString();
    session.on('session_restored', () => {
      const sessionId = session.sessionId.toString();
      const how: Reconnect = this.recreated
        ? 'subscription-recreated'
        : sessionId === this.sessionId
          ? 'session-reactivated'
          : 'subscription-transferred';
      this.sessionId = sessionId;
      this.recreated = false;
      this.hooks.onEvent(how);
      this.log.info({ how, endpointUrl: client.endpointUrl }, 'OPC UA session repaired');
    });
  }

  private onNotification(subscription: ClientSubscription, message: NotificationMessage): void {
    const values: MonitoredValue[] = [];
    for (const data of message.notificationData ?? []) {
      if (!(data instanceof DataChangeNotification)) continue;
      for (const n of data.monitoredItems ?? []) {
        const nodeId = subscription.monitoredItems[n.clientHandle]?.itemToMonitor.nodeId.toString();
        const point = nodeId === undefined ? undefined : this.points.get(nodeId);
        if (point) values.push({ point, value: n.value });
        else this.log.warn({ clientHandle: n.clientHandle }, 'notification for an unknown monitored item');
      }
    }
    if (values.length > 0) this.hooks.onValues(values);
  }
}
