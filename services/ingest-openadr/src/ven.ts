// The VEN's life: find or register its ven object, read programs and events, subscribe for webhook
// callbacks, and poll whenever the webhook has not proven itself or has missed a change.
import { randomBytes } from 'node:crypto';
import { backoffMs, isTransient, LogSummary, sleep, type Logger, type WorkerRuntime } from '@busway/runtime';
import { CALLBACK_PATH, CallbackServer, type CallbackOutcome } from './callback-server.js';
import type { IngestOpenadrConfig } from './config.js';
import type { EventSink } from './event-sink.js';
import type { ProgramCache } from './programs.js';
import { deadLetterObject, STAGE } from './publish.js';
import { contentHash } from './revision.js';
import { VtnRefused, type VtnClient } from './vtn-client.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How the VEN learns of changes right now. */
export type VenMode = 'polling' | 'webhook';

export class Ven {
  /** The VTN's id of this VEN's ven object. */
  venId?: string;
  subscriptionId?: string;
  /** A callback has arrived since the last subscription: the webhook works, a slow resync suffices. */
  private webhookProven = false;
  private lastSubscribeMs = -Infinity;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private readonly callbacks?: CallbackServer;
  private callbackUrl?: string;
  private readonly callbackToken: string;
  private readonly failures: LogSummary;
  /** Revisions a read found while the webhook worked, left to their callback until the next read. */
  private deferred = new Set<string>();

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly config: IngestOpenadrConfig & { vtnUrl: string },
    private readonly client: VtnClient,
    private readonly programs: ProgramCache,
    private readonly sink: EventSink,
    private readonly log: Logger,
  ) {
    this.callbackToken = config.callbackToken ?? randomBytes(24).toString('base64url');
    this.failures = new LogSummary(log, 'VTN requests failed:');
    if (config.webhook)
      this.callbacks = new CallbackServer(
        {
          port: config.callbackPort,
          address: config.callbackAddress,
          token: this.callbackToken,
          maxPending: config.maxPendingCallbacks,
        },
        (n) => this.onNotification(n),
        log,
        (outcome) => this.count(outcome),
      );
  }

  get mode(): VenMode {
    return this.webhookProven && this.subscriptionId ? 'webhook' : 'polling';
  }

  async start(): Promise<void> {
    if (this.callbacks) {
      const port = await this.callbacks.start();
      this.callbackUrl = this.config.callbackUrl ?? `http://127.0.0.1:${port}${CALLBACK_PATH}`;
      this.log.info({ callbackUrl: this.callbackUrl }, 'webhook listening');
    }
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    if (this.subscriptionId) {
      // a subscription left behind would call a webhook nobody answers
      await this.client
        .request('DELETE', `/subscriptions/${this.subscriptionId}`)
        .then(() => this.log.info({ subscriptionId: this.subscriptionId }, 'subscription deleted'))
        .catch((err: unknown) => this.log.warn({ err }, 'could not delete the subscription'));
    }
    await this.callbacks?.close();
    this.failures.close();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.abort.signal.aborted) {
      let waitMs: number;
      try {
        await this.cycle();
        failures = 0;
        waitMs = this.mode === 'webhook' ? this.config.resyncIntervalMs : this.config.pollIntervalMs;
      } catch (err) {
        failures++;
        this.count('poll-failed');
        this.failures.add(
          isTransient(err) ? 'transient' : err instanceof VtnRefused ? `http-${err.status}` : 'other',
        );
        if (failures === 1) this.log.warn({ err }, 'VTN cycle failed; backing off');
        waitMs = backoffMs(failures, Math.min(1000, this.config.pollIntervalMs), this.config.maxBackoffMs);
      }
      await sleep(waitMs, this.abort.signal);
    }
  }

  /** One pass: registered? subscribed? then a full read of programs and events. */
  private async cycle(): Promise<void> {
    this.venId ??= await this.register();
    const due = Date.now() - this.lastSubscribeMs >= this.config.resubscribeIntervalMs;
    if (this.callbacks && !this.subscriptionId && due) await this.subscribe();
    const missed = await this.sync();
    if (missed > 0 && this.mode === 'webhook') {
      this.count('webhook-missed');
      this.log.warn({ missed }, 'the webhook missed changes: polling until a callback arrives again');
      this.webhookProven = false;
      await this.checkSubscription();
    }
  }

  /** Finds the ven object by name, or creates it (VEN_VEN_REQUEST: the VTN takes the clientID from the token). */
  private async register(): Promise<string> {
    const found = await this.client.getAll('/vens', { venName: this.config.venName });
    const mine = found.find((v) => isObj(v) && v.venName === this.config.venName && typeof v.id === 'string');
    if (mine) {
      this.log.info({ venId: (mine as Obj).id }, 'ven found at the VTN');
      return (mine as Obj).id as string;
    }
    const created = await this.client.request('POST', '/vens', {
      body: { objectType: 'VEN_VEN_REQUEST', venName: this.config.venName },
    });
    if (!isObj(created) || typeof created.id !== 'string')
      throw new VtnRefused(201, 'POST', '/vens', 'no id in the answer');
    this.count('ven-registered');
    this.log.info({ venId: created.id }, 'ven registered at the VTN');
    return created.id;
  }

  private async subscribe(): Promise<void> {
    this.lastSubscribeMs = Date.now();
    try {
      // an earlier run's subscription calls back with a token this run refuses
      const existing = await this.client.getAll('/subscriptions', { clientName: this.config.venName });
      for (const s of existing) {
        const ops = isObj(s) && Array.isArray(s.objectOperations) ? s.objectOperations : [];
        if (isObj(s) && ops.some((op) => isObj(op) && op.callbackUrl === this.callbackUrl))
          await this.client.request('DELETE', `/subscriptions/${String(s.id)}`);
      }
      const created = await this.client.request('POST', '/subscriptions', {
        body: {
          clientName: this.config.venName,
          objectOperations: [
            {
              objects: ['PROGRAM', 'EVENT'],
              operations: ['CREATE', 'UPDATE', 'DELETE'],
              callbackUrl: this.callbackUrl,
              bearerToken: this.callbackToken,
            },
          ],
          ...(this.config.targets.length > 0 ? { targets: this.config.targets } : {}),
        },
      });
      if (!isObj(created) || typeof created.id !== 'string')
        throw new VtnRefused(201, 'POST', '/subscriptions', 'no id in the answer');
      this.subscriptionId = created.id;
      this.webhookProven = false;
      this.count('subscribed');
      this.log.info(
        { subscriptionId: created.id },
        'subscribed; polling until the first callback proves the webhook',
      );
    } catch (err) {
      this.count('subscribe-failed');
      this.log.warn({ err, retryInMs: this.config.resubscribeIntervalMs }, 'subscription failed: polling');
    }
  }

  /** After a missed change: a subscription the VTN no longer has is made again. */
  private async checkSubscription(): Promise<void> {
    if (!this.subscriptionId) return;
    try {
      await this.client.get(`/subscriptions/${this.subscriptionId}`);
    } catch (err) {
      if (err instanceof VtnRefused && err.status === 404) {
        this.subscriptionId = undefined;
        this.lastSubscribeMs = -Infinity;
      }
    }
  }

  /**
   * Reads every program and event; returns how many changes the webhook should have brought but did not.
   * While the webhook works, a change younger than callbackGraceMs is left to its callback (it may be in
   * flight) until the next read; then, or when already older, it counts as missed.
   */
  private async sync(): Promise<number> {
    const query = this.config.targets.length > 0 ? { targets: this.config.targets } : {};
    this.programs.replace(await this.client.getAll('/programs', query));
    const events = await this.client.getAll('/events', query);
    this.count('poll');
    const webhook = this.mode === 'webhook';
    const youngAfterMs = Date.now() - this.config.callbackGraceMs;
    const deferred = new Set<string>();
    let missed = 0;
    const listed = new Set<string>();
    for (const raw of events) {
      const fresh = this.sink.freshRevision(raw);
      if (fresh?.eventId) listed.add(fresh.eventId);
      if (webhook && fresh?.revision) {
        const young = fresh.modificationMs !== undefined && fresh.modificationMs > youngAfterMs;
        if (young && !this.deferred.has(fresh.revision)) {
          deferred.add(fresh.revision);
          continue;
        }
        missed++;
      }
      const accepted = await this.sink.accept(raw);
      if (accepted.eventId) listed.add(accepted.eventId);
    }
    this.deferred = deferred;
    const cancelled = await this.sink.vanished(listed);
    // a deletion found by reading is a DELETE notification the webhook did not bring
    return missed + (webhook ? cancelled : 0);
  }

  /** A subscription callback: answered 200 only once what it carries is stored. */
  private async onNotification(n: unknown): Promise<CallbackOutcome> {
    this.count('callback-received');
    const ok =
      isObj(n) && typeof n.objectType === 'string' && typeof n.operation === 'string' && isObj(n.object);
    if (!ok) {
      await deadLetterObject(
        this.rt,
        {
          id: `openadr:${this.config.vtnId}:notification:${contentHash(n, 16)}`,
          origin: this.callbackUrl ?? CALLBACK_PATH,
          object: n,
          reason: {
            code: 'contract-violation',
            message: 'a notification needs objectType, operation and object',
          },
        },
        this.config.publishTimeoutMs,
      ); // not stored: throws, and the VTN gets 503 and sends it again
      return 400;
    }
    this.webhookProven = true;
    const object = n.object as Obj;
    try {
      if (n.objectType === 'EVENT' && n.operation === 'DELETE') await this.sink.cancel(String(object.id));
      else if (n.objectType === 'EVENT') await this.sink.accept(object);
      else if (n.objectType === 'PROGRAM' && n.operation === 'DELETE')
        this.programs.delete(String(object.id));
      else if (n.objectType === 'PROGRAM') this.programs.update(object);
      return 200;
    } catch (err) {
      this.count('callback-failed');
      this.log.warn({ err }, 'callback not stored: answered 503, the VTN will retry');
      return 503;
    }
  }

  private count(outcome: string): void {
    this.rt.metrics.messages.inc({ stage: STAGE, outcome });
  }
}
