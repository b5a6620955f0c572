import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { deadLetterJsMsg, type ConsumerConfig, type Outcome, type StageMetrics } from '@busway/runtime';

export interface HeldOptions {
  js: JetStreamClient;
  /** Dead letters go to dlq.v1.<worker>. */
  worker: string;
  stage: string;
  consumer: ConsumerConfig;
  metrics: StageMetrics;
  termWithReason: boolean;
  log: Logger;
}

/**
 * Messages the consume loop handed back as HOLD while their publications are in flight: each is settled on
 * its own once they are (ack; nak after a failure; dead letter on its last delivery), exactly as the loop
 * settles a batch, so the next batch need not wait for this one's broker round trip.
 */
export class HeldMessages {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly opts: HeldOptions) {}

  /** Messages whose outcome is still awaited. */
  get size(): number {
    return this.pending.size;
  }

  /** Keeps `msg` until `outcome` resolves, then settles it. */
  hold(msg: JsMsg, outcome: Promise<Outcome>): void {
    const settled = outcome
      .then((o) => this.settle(msg, o))
      .catch((err: unknown) => {
        // never expected (settle handles its own failures): the server redelivers after ackWait
        this.opts.log.error({ err }, 'settling a held message failed');
      })
      .finally(() => this.pending.delete(settled));
    this.pending.add(settled);
  }

  /** Resolves once every held message is settled (each waits for its publish timeout at most). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async settle(msg: JsMsg, outcome: Outcome): Promise<void> {
    const { consumer, metrics, stage } = this.opts;
    let o = outcome;
    if (o.kind === 'retry' && msg.info.deliveryCount >= consumer.maxDeliver)
      o = {
        kind: 'poison',
        code: o.code,
        message: `gave up after ${msg.info.deliveryCount} deliveries: ${o.message}`,
      };
    if (o.kind === 'ack') msg.ack();
    else if (o.kind === 'retry') msg.nak(o.delayMs ?? consumer.nakDelayMs);
    else if (o.kind === 'poison') {
      try {
        await deadLetterJsMsg(this.opts.js, this.opts.worker, msg, o, this.opts.termWithReason);
        metrics.deadLetters.inc({ stage, reason: o.code });
      } catch (err) {
        this.opts.log.error({ err }, 'dead-letter publish failed; message will be redelivered');
        msg.nak(consumer.nakDelayMs);
        o = { kind: 'retry', code: o.code, message: o.message };
      }
    }
    metrics.messages.inc({ stage, outcome: o.kind === 'poison' ? 'dead-letter' : o.kind });
  }
}
