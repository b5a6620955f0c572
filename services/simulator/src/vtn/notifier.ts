import type { OpenAdrSpec } from './spec.js';

/** How the VTN retries a webhook that did not answer 2xx. */
export interface NotifierOptions {
  /** Tries per notification before it is given up. @default 20 */
  maxAttempts: number;
  /** Wait before the first retry; doubled per retry. @default 200 */
  initialDelayMs: number;
  /** Longest wait between two tries. @default 5000 */
  maxDelayMs: number;
  /** How long one POST may take. @default 5000 */
  timeoutMs: number;
}

export const DEFAULT_NOTIFIER: NotifierOptions = {
  maxAttempts: 20,
  initialDelayMs: 200,
  maxDelayMs: 5000,
  timeoutMs: 5000,
};

/** One try to deliver one notification, for tests and logs. */
export interface Delivery {
  subscriptionId: string;
  callbackUrl: string;
  objectType: string;
  operation: string;
  objectId: string;
  attempt: number;
  /** HTTP status, or 0 when the callback could not be reached. */
  status: number;
  error?: string;
}

/** Where one subscription wants one kind of notification. */
export interface WebhookTarget {
  subscriptionId: string;
  callbackUrl: string;
  bearerToken?: string | null;
}

export interface Notification {
  objectType: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  object: { id: string } & Record<string, unknown>;
  targets?: string[] | null;
}

// 4xx means the VEN refuses this notification for good; 408 and 429 ask for a later try
const retryable = (status: number) => status === 0 || status >= 500 || status === 408 || status === 429;

/**
 * Delivers notifications to webhooks: in order per callback (a later notification waits for the earlier
 * one), retried with exponential backoff while the callback is unreachable or answers 5xx.
 */
export class WebhookNotifier {
  readonly deliveries: Delivery[] = [];
  /** Notifications the VTN was about to send that do not conform to the document (a VTN bug). */
  readonly invalid: string[] = [];
  private readonly queues = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();

  constructor(
    private readonly spec: OpenAdrSpec,
    private readonly options: NotifierOptions,
    private readonly onGiveUp: (d: Delivery) => void = () => undefined,
  ) {}

  notify(targets: WebhookTarget[], notification: Notification): void {
    const problem = this.spec.check('notification', notification);
    if (problem) {
      this.invalid.push(problem);
      return;
    }
    for (const target of targets) {
      const key = `${target.subscriptionId} ${target.callbackUrl}`;
      const previous = this.queues.get(key) ?? Promise.resolve();
      const next = previous.then(() => this.deliver(target, notification));
      this.queues.set(key, next);
      void next.finally(() => {
        if (this.queues.get(key) === next) this.queues.delete(key);
      });
    }
  }

  /** Drops what is queued for a deleted subscription (its next try finds it gone). */
  forget(subscriptionId: string): void {
    this.cancelled.add(subscriptionId);
  }

  /** Resolves once every queued notification was delivered or given up. */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.all([...this.queues.values()]);
  }

  close(): void {
    this.abort.abort();
  }

  private readonly cancelled = new Set<string>();

  private async deliver(target: WebhookTarget, notification: Notification): Promise<void> {
    const body = JSON.stringify(notification);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (target.bearerToken) headers.authorization = `Bearer ${target.bearerToken}`;
    let delayMs = this.options.initialDelayMs;
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      if (this.abort.signal.aborted || this.cancelled.has(target.subscriptionId)) return;
      const d: Delivery = {
        subscriptionId: target.subscriptionId,
        callbackUrl: target.callbackUrl,
        objectType: notification.objectType,
        operation: notification.operation,
        objectId: notification.object.id,
        attempt,
        status: 0,
      };
      try {
        const res = await fetch(target.callbackUrl, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs)]),
        });
        d.status = res.status;
        await res.arrayBuffer().catch(() => undefined);
      } catch (err) {
        d.error = (err as Error).message;
      }
      this.deliveries.push(d);
      if (d.status >= 200 && d.status < 300) return;
      if (!retryable(d.status) || attempt === this.options.maxAttempts) {
        this.onGiveUp(d);
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.abort.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      delayMs = Math.min(delayMs * 2, this.options.maxDelayMs);
    }
  }
}
