import type { JsMsg } from '@nats-io/jetstream';
import { settleMessage, type Outcome, type SettleOptions } from '@busway/runtime';

/**
 * Messages the consume loop handed back as HOLD while their publications are in flight: each is settled on
 * its own once they are (settleMessage, as the loop settles a batch), so the next batch need not wait for
 * this one's broker round trip.
 */
export class HeldMessages {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly opts: SettleOptions) {}

  /** Messages whose outcome is still awaited. */
  get size(): number {
    return this.pending.size;
  }

  /** Keeps `msg` until `outcome` resolves, then settles it. */
  hold(msg: JsMsg, outcome: Promise<Outcome>): void {
    const settled = outcome
      .then((o) => settleMessage(msg, o, this.opts))
      .then(() => undefined)
      .catch((err: unknown) => {
        // never expected (settleMessage handles its own failures): the server redelivers after ackWait
        this.opts.log.error({ err }, 'settling a held message failed');
      })
      .finally(() => this.pending.delete(settled));
    this.pending.add(settled);
  }

  /** Resolves once every held message is settled (each waits for its publish timeout at most). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
