import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { busway, EventTypes, Streams, unsSubject } from '@busway/proto';
import {
  backoffMs,
  LogSummary,
  publishDeadLetter,
  readEnvelope,
  sleep,
  type RunningWorker,
  type WorkerRuntime,
} from '@busway/runtime';
import { eventMs, Periods, rollupValue, windowStartMs } from './aggregate.js';
import { CheckpointStore } from './checkpoint.js';
import type { HistoryConfig } from './config.js';
import { RollupMetrics } from './metrics.js';
import { publishAll } from './publisher.js';
import { recoverHours } from './recovery.js';
import { rollupMessage } from './rollup-message.js';
import { WindowBook, type WindowEntry } from './window-book.js';

const STAGE = 'history';
const INPUT = 'ordered.v1.samples.>';

/**
 * Rolls ORDERED samples up into 1 min and 1 h windows by event time. ORDERED is in event-time order, so a
 * window closes once the newest event time is `allowedLatenessMs` past its end (or, with no input for
 * `idleCloseMs`, by the wall clock). Closed minutes are published to ROLLUP_1M and merged into their hour;
 * closed hours go to ROLLUP_1H. Nothing is acknowledged: the worker reads ORDERED with an ordered consumer
 * and, after each close, checkpoints the sequence from which a replay rebuilds every open window.
 */
export async function startHistory(rt: WorkerRuntime, config: HistoryConfig): Promise<RunningWorker> {
  const store = await CheckpointStore.open(
    rt.js,
    config.checkpointBucket,
    config.checkpointKey,
    config.streamReplicas,
  );
  const cp = await store.load();
  const metrics = new RollupMetrics(rt.metrics.registry);
  const minutes = new WindowBook(Periods['1m'], cp.closed1mMs ?? -Infinity);
  const hours = new WindowBook(Periods['1h'], cp.closed1hMs ?? -Infinity);
  const hourFirstSeq = new Map<number, number>(); // open hour -> its first ROLLUP_1M sequence
  const recovered = await recoverHours(rt.js, rt.jsm, hours, cp, hourFirstSeq);
  const replayEndSeq = (await rt.jsm.streams.info(Streams.Ordered.name)).state.last_seq;
  rt.log.info({ checkpoint: cp, recoveredMinutes: recovered, replayEndSeq }, 'rollups resuming');

  const abort = new AbortController();
  const deadLetters = new LogSummary(rt.log, 'dead-lettered ORDERED messages:');
  let nextRollup1mSeq = cp.rollup1mSeq;
  let lastSeq = Math.max(cp.orderedSeq - 1, 0);
  let maxEventMs = -Infinity;
  let lastInputMs = Date.now();
  let closing: Promise<void> = Promise.resolve();

  const publish = async (period: '1m' | '1h', entries: WindowEntry[]) => {
    const acks = await publishAll(
      rt.js,
      entries.map((e) => rollupMessage(period, e)),
      config.publishConcurrency,
      rt.log,
      abort.signal,
    );
    metrics.rollups.inc({ period }, entries.length);
    rt.metrics.samples.inc({ stage: STAGE, direction: 'out' }, entries.length);
    return acks;
  };

  const closeWindows = async (watermarkMs: number): Promise<void> => {
    if (!minutes.wouldClose(watermarkMs)) return;
    const closedMinutes = minutes.closeThrough(watermarkMs).flat();
    const acks = await publish('1m', closedMinutes);
    closedMinutes.forEach((e, i) => {
      hours.addAggregate(e, e.agg);
      const hour = windowStartMs(e.startMs, Periods['1h']);
      const seq = acks[i]?.seq ?? 0;
      if (!hourFirstSeq.has(hour) || seq < (hourFirstSeq.get(hour) ?? 0)) hourFirstSeq.set(hour, seq);
      nextRollup1mSeq = Math.max(nextRollup1mSeq, seq + 1);
    });
    const closedHours = hours.closeThrough(minutes.closedThroughMs).flat();
    if (closedHours.length > 0) await publish('1h', closedHours);
    for (const hour of hourFirstSeq.keys())
      if (hour + Periods['1h'] <= hours.closedThroughMs) hourFirstSeq.delete(hour);
    const openHourSeqs = [...hourFirstSeq.values()];
    const next = {
      orderedSeq: minutes.minOpenSeq() ?? lastSeq + 1,
      closed1mMs: Number.isFinite(minutes.closedThroughMs) ? minutes.closedThroughMs : null,
      closed1hMs: Number.isFinite(hours.closedThroughMs) ? hours.closedThroughMs : null,
      rollup1mSeq: openHourSeqs.length > 0 ? Math.min(...openHourSeqs) : nextRollup1mSeq,
    };
    for (let failures = 1; ; failures++) {
      try {
        await store.save(next);
        break;
      } catch (err) {
        if (abort.signal.aborted) throw err; // not saved: the restart replays from the previous checkpoint
        rt.log.warn({ err: (err as Error).message, failures }, 'checkpoint not saved; retrying');
        await sleep(backoffMs(failures, 200, 10_000), abort.signal);
      }
    }
    metrics.openWindows.set({ period: '1m' }, minutes.openWindows);
    metrics.openWindows.set({ period: '1h' }, hours.openWindows);
    metrics.closedThrough.set({ period: '1m' }, minutes.closedThroughMs / 1000);
    if (Number.isFinite(hours.closedThroughMs))
      metrics.closedThrough.set({ period: '1h' }, hours.closedThroughMs / 1000);
  };
  // one close at a time, and no input is folded while one runs
  const close = (watermarkMs: number) =>
    (closing = closing.catch(() => undefined).then(() => closeWindows(watermarkMs)));

  const deadLetter = async (m: JsMsg, code: string, message: string) => {
    rt.metrics.deadLetters.inc({ stage: STAGE, reason: code });
    deadLetters.add(code);
    await publishDeadLetter(rt.js, STAGE, m.subject, m.data, m.headers, { code, message }, 1, m.seq).catch(
      (err: unknown) => rt.log.error({ err, seq: m.seq }, 'dead letter not stored'),
    );
  };

  const handle = async (m: JsMsg): Promise<void> => {
    const env = readEnvelope(m.headers);
    if (env.type !== EventTypes.SampleBatch)
      return deadLetter(m, 'contract-violation', `expected ${EventTypes.SampleBatch}, got '${env.type}'`);
    let batch: busway.v1.SampleBatch;
    try {
      batch = busway.v1.SampleBatch.decode(m.data);
    } catch (err) {
      return deadLetter(m, 'decode-error', (err as Error).message);
    }
    rt.metrics.samples.inc({ stage: STAGE, direction: 'in' }, batch.samples.length);
    for (const s of batch.samples) {
      const value = rollupValue(s);
      if (typeof value === 'string') {
        metrics.skipped.inc({ reason: value });
        continue;
      }
      const timeMs = eventMs(s);
      const point = {
        unsSubject: unsSubject(s.path ?? {}, s.metric ?? ''),
        path: s.path ?? {},
        metric: s.metric ?? '',
        unit: s.unit ?? '',
      };
      const r = minutes.add(point, value, timeMs, m.seq);
      if (r === 'repeat') metrics.skipped.inc({ reason: 'repeat' });
      else if (r === 'late' && m.seq > replayEndSeq) metrics.skipped.inc({ reason: 'late' });
      if (timeMs > maxEventMs) maxEventMs = timeMs;
    }
    rt.metrics.messages.inc({ stage: STAGE, outcome: 'ack' });
  };

  let messages: ConsumerMessages | undefined;
  let consumer: Consumer | undefined;
  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        consumer = await rt.js.consumers.get(Streams.Ordered.name, {
          filter_subjects: INPUT, // a string, not an array: nats-server 2.9 knows only filter_subject
          opt_start_seq: lastSeq + 1,
        });
        messages = await consumer.consume({ max_messages: config.batchSize });
        for await (const m of messages) {
          await closing.catch(() => undefined);
          lastInputMs = Date.now();
          await handle(m);
          lastSeq = m.seq;
          const watermarkMs = maxEventMs - config.allowedLatenessMs;
          if (minutes.wouldClose(watermarkMs)) await close(watermarkMs);
        }
      } catch (err) {
        if (abort.signal.aborted) break;
        rt.log.warn({ err: (err as Error).message, lastSeq }, 'reading ORDERED failed; resuming');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();

  const idleTimer = setInterval(() => {
    const now = Date.now();
    if (config.idleCloseMs === 0 || now - lastInputMs < config.idleCloseMs) return;
    const watermarkMs = Math.max(maxEventMs - config.allowedLatenessMs, now - config.idleCloseMs);
    if (minutes.wouldClose(watermarkMs))
      close(watermarkMs).catch((err: unknown) => rt.log.error({ err }, 'idle close failed; retried'));
  }, 1000);
  idleTimer.unref();

  return {
    async stop() {
      clearInterval(idleTimer);
      abort.abort(); // open windows are not published half full: the checkpoint replays them on restart
      messages?.stop();
      await loop;
      await consumer?.delete().catch(() => undefined); // ephemeral: the restart makes its own
      await closing.catch(() => undefined);
      deadLetters.close();
    },
  };
}
