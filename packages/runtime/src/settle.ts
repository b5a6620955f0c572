import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { ConsumerConfig } from './config.js';
import type { Outcome } from './consume-loop.js';
import { deadLetterJsMsg } from './dead-letter.js';
import type { StageMetrics } from './metrics.js';

export interface SettleOptions {
  js: JetStreamClient;
  /** Dead letters go to dlq.v1.<worker>. */
  worker: string;
  stage: string;
  consumer: Pick<ConsumerConfig, 'maxDeliver' | 'nakDelayMs'>;
  metrics: StageMetrics;
  /** Whether the server understands `+TERM <reason>` (see serverFeatures). */
  termWithReason?: boolean;
  log: Logger;
}

/**
 * Settles one JetStream message by its outcome: ack, hold (nothing), nak(delay), or dead letter + term; a
 * retry on its last allowed delivery is dead-lettered. Counts it, and returns what was done: a dead letter
 * that could not be stored becomes a retry (the message comes back).
 */
export async function settleMessage(msg: JsMsg, outcome: Outcome, o: SettleOptions): Promise<Outcome> {
  let out = outcome;
  if (out.kind === 'retry' && msg.info.deliveryCount >= o.consumer.maxDeliver)
    out = {
      kind: 'poison',
      code: out.code,
      message: `gave up after ${msg.info.deliveryCount} deliveries: ${out.message}`,
    };
  switch (out.kind) {
    case 'ack':
      msg.ack();
      break;
    case 'hold':
      break;
    case 'retry':
      msg.nak(out.delayMs ?? o.consumer.nakDelayMs);
      break;
    case 'poison':
      try {
        await deadLetterJsMsg(
          o.js,
          o.worker,
          msg,
          { code: out.code, message: out.message },
          o.termWithReason,
        );
        o.metrics.deadLetters.inc({ stage: o.stage, reason: out.code });
      } catch (err) {
        // the dead-letter stream is unreachable: keep the message, it comes back
        o.log.error({ err }, 'dead-letter publish failed; message will be redelivered');
        msg.nak(o.consumer.nakDelayMs);
        out = { kind: 'retry', code: out.code, message: out.message };
      }
      break;
  }
  o.metrics.messages.inc({ stage: o.stage, outcome: out.kind === 'poison' ? 'dead-letter' : out.kind });
  return out;
}
