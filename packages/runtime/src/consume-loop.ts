import type { Context } from '@opentelemetry/api';
import { context, trace, type Span } from '@opentelemetry/api';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { ConsumerConfig } from './config.js';
import { startConsumerLag } from './consumer-lag.js';
import { Hdr } from './headers.js';
import { isTransient, reasonOf } from './errors.js';
import { LogSummary } from './logger.js';
import type { StageMetrics } from './metrics.js';
import { oldestTime, withSourceTime } from './provenance.js';
import { isUnavailable } from './pub-acks.js';
import { settleMessage, type SettleOptions } from './settle.js';
import { failSpan, startBatchSpan } from './tracing.js';

/** What happens to one message of a batch once the handler is done with it. */
export type Outcome =
  | { kind: 'ack' }
  /** The handler keeps the message (e.g. in a reorder buffer) and acks it itself later. */
  | { kind: 'hold' }
  /** Redeliver later; after the last allowed delivery it is dead-lettered with this reason. */
  | { kind: 'retry'; code: string; message: string; delayMs?: number }
  /** Will fail the same way every time: dead-letter now with the reason. */
  | { kind: 'poison'; code: string; message: string };

export const ACK: Outcome = Object.freeze({ kind: 'ack' });
export const HOLD: Outcome = Object.freeze({ kind: 'hold' });

export type BatchHandler = (batch: JsMsg[], ctx: Context) => Promise<Outcome[]>;

export interface ConsumeLoopOptions {
  /** Pipeline stage: the `stage` label of the loop's metrics. */
  stage: string;
  /** Worker name: dead letters go to dlq.v1.<worker>. @default stage */
  worker?: string;
  js: JetStreamClient;
  /** Whether the server understands `+TERM <reason>` (see serverFeatures). @default false */
  termWithReason?: boolean;
  stream: string;
  durable: string;
  config: ConsumerConfig;
  metrics: StageMetrics;
  log: Logger;
  handle: BatchHandler;
  /** How often the consumer's backlog (num_pending, num_ack_pending) is sampled into gauges; 0: never. @default 5000 */
  lagIntervalMs?: number;
  /**
   * Told after every pull: whether it completed and how many messages it brought. A pull that completed
   * empty shows nothing waits; a failed one shows nothing (the input may be stalled, not quiet).
   */
  onPull?: (pull: { ok: boolean; messages: number }) => void;
  /**
   * A batch whose handler fails because its output stream cannot answer (no responders while a leader is
   * elected, no PubAck in time) is tried again in place, its messages kept from redelivery, until it passes or
   * the loop stops. Later input then never overtakes it (downstream event-time order would read it late), and
   * an outage longer than `maxDeliver` redeliveries does not dead-letter good input. The handler's retry must
   * be idempotent. @default false: nak with `nakDelayMs`, and go on with the next pull
   */
  holdWhileUnavailable?: boolean;
}

/** First and longest wait between tries of a batch held while its output is unavailable. */
const HOLD_FIRST_MS = 100;
const HOLD_LONGEST_MS = 1000;

export interface ConsumeLoop {
  /** Resolves when the loop has stopped: no more pulls, the batch in hand finished and settled. */
  readonly done: Promise<void>;
  /** Stop pulling; the batch in hand is finished, anything buffered but unstarted is nak'ed for others. */
  stop(): Promise<void>;
}

/**
 * Pulls from a durable consumer with bounded pull requests, hands batches to `handle`, and settles every
 * message by its outcome: ack, hold, nak(delay), or dead-letter + term. A batch closes when it is full or
 * when nothing more is buffered, so latency stays low at low rates. Backpressure is explicit: at most
 * `maxAckPending` unacked messages (server side), `batchSize` (or `maxBytes`) per pull. On stop no new pull
 * is issued and everything the last pull delivers is processed, so nothing waits out an ack timeout.
 * Never throws out.
 */
export async function startConsumeLoop(opts: ConsumeLoopOptions): Promise<ConsumeLoop> {
  const { js, stage, config, metrics, handle } = opts;
  const log = opts.log.child({ stream: opts.stream, consumer: opts.durable });
  const consumer = await js.consumers.get(opts.stream, opts.durable);
  // by bytes, nats.js decides how many messages a pull asks for: its end is only known by count
  const maxMessages = config.maxBytes > 0 ? undefined : config.batchSize;
  const pull = maxMessages === undefined ? { max_bytes: config.maxBytes } : { max_messages: maxMessages };
  const deadLetters = new LogSummary(log, 'dead-lettered messages:');
  const holds = new LogSummary(log, 'output unavailable; holding the batch in place and trying again:');
  const lag = startConsumerLag({
    stream: opts.stream,
    consumer: opts.durable,
    info: () => consumer.info(),
    metrics,
    log,
    intervalMs: opts.lagIntervalMs,
  });
  let stopping = false;

  const settleOptions: SettleOptions = {
    js,
    worker: opts.worker ?? stage,
    stage,
    consumer: config,
    metrics,
    termWithReason: opts.termWithReason,
    log,
  };
  const settle = async (msg: JsMsg, outcome: Outcome, receivedMs?: number): Promise<void> => {
    const o = await settleMessage(msg, outcome, settleOptions);
    if (o.kind === 'poison') deadLetters.add(o.code);
    const nowMs = Date.now();
    if (o.kind !== 'hold' && receivedMs !== undefined)
      metrics.receiveToAckSeconds.observe({ stage }, (nowMs - receivedMs) / 1000);
    if (o.kind === 'ack' || o.kind === 'hold')
      metrics.observeEventTime(stage, msg.headers?.get(Hdr.Time), nowMs);
  };

  const outcomesOf = async (batch: JsMsg[], ctx: Context, span: Span): Promise<Outcome[]> => {
    for (let waitMs = HOLD_FIRST_MS; ; waitMs = Math.min(2 * waitMs, HOLD_LONGEST_MS)) {
      try {
        const outcomes = await handle(batch, ctx);
        if (outcomes.length !== batch.length) {
          throw new Error(`handler returned ${outcomes.length} outcomes for ${batch.length} messages`);
        }
        return outcomes;
      } catch (err) {
        if (opts.holdWhileUnavailable && isUnavailable(err) && !stopping) {
          holds.add((err as Error).message.replace(/[\w-]+(\.[\w-]+)+/g, '<subject>')); // one line per kind
          metrics.messages.inc({ stage, outcome: 'store-retry' }, batch.length);
          for (const m of batch) m.working(); // the ack wait starts again: no redelivery behind its back
          await new Promise((r) => setTimeout(r, waitMs));
          continue;
        }
        // unexpected failure of the whole batch: report once, redeliver; a message that keeps failing is dead-lettered
        const reason = reasonOf(err);
        failSpan(span, err);
        log.error({ err, batch: batch.length, transient: isTransient(err) }, 'batch failed; redelivering');
        return batch.map(() => ({ kind: 'retry', code: reason.code, message: reason.message }));
      }
    }
  };

  const processBatch = async (batch: JsMsg[], receivedMs: number[] = []): Promise<void> => {
    const first = batch[0];
    const span = startBatchSpan(
      stage,
      first?.subject ?? opts.stream,
      batch.map((m) => m.headers),
      {
        consumer: opts.durable,
        stream: opts.stream,
        messageId: first?.headers?.get(Hdr.Id) || undefined,
        bodyBytes: first?.data.length,
      },
    );
    // outputs that set no time keep the inputs' source time (ce-time), oldest first
    const ctx = withSourceTime(
      trace.setSpan(context.active(), span),
      oldestTime(batch.map((m) => m.headers?.get(Hdr.Time))),
    );
    const timer = metrics.batchSeconds.startTimer({ stage });
    const outcomes = await outcomesOf(batch, ctx, span);
    await Promise.all(batch.map((m, i) => settle(m, outcomes[i] as Outcome, receivedMs[i])));
    timer();
    span.end();
  };

  const pullOnce = async (): Promise<number> => {
    const messages = await consumer.fetch({ ...pull, expires: config.fetchExpiresMs });
    let count = 0;
    let batch: JsMsg[] = [];
    let received: number[] = [];
    for await (const msg of messages) {
      count++;
      batch.push(msg);
      received.push(Date.now());
      // the pull is complete and the server sends no more heartbeats: end it before handling the last batch, or
      // a handler slower than two heartbeats fails it ("heartbeats missed") though every message was delivered
      if (count === maxMessages) break;
      if (batch.length >= config.batchSize || messages.getPending() === 0) {
        const [current, times] = [batch, received];
        batch = [];
        received = [];
        await processBatch(current, times);
      }
    }
    if (batch.length > 0) await processBatch(batch, received);
    return count;
  };

  const done = (async () => {
    while (!stopping) {
      try {
        const messages = await pullOnce();
        opts.onPull?.({ ok: true, messages });
      } catch (err) {
        opts.onPull?.({ ok: false, messages: 0 });
        log.warn({ err: (err as Error).message }, 'pull failed; retrying');
        // missed heartbeats took two of them to notice: pull again at once. NATS unreachable or the consumer
        // gone: the connection reconnects on its own; try again shortly
        if ((err as Error).message !== 'heartbeats missed') await new Promise((r) => setTimeout(r, 1000));
      }
    }
    deadLetters.close();
    holds.close();
    lag.stop();
  })();

  return {
    done,
    async stop() {
      stopping = true;
      await done;
    },
  };
}
