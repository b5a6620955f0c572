// Alarms from stream ALARMS (raised and cleared by the anomaly worker) to the Redis state of active alarms and to
// core NATS subscribers on events.v1.alarm.<site>.<hall>.<row>.<rack>.
import type { Context } from '@opentelemetry/api';
import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ChainableCommander, Redis } from 'ioredis';
import { busway, EventTypes, rfc3339Nano, token, unsSubject } from '@busway/proto';
import {
  ACK,
  Refused,
  fabricHeaders,
  injectTrace,
  LogSummary,
  readEnvelope,
  type Logger,
  type Outcome,
} from '@busway/runtime';
import { execAll, transient } from './batch-results.js';
import { APPLY_ALARM_LUA, clearedAlarmKey, RedisKeys } from './redis-keys.js';

/** An alarm event that passed the contract checks: kind ALARM, an Alarm body with its alarm_id. */
export type AlarmEvent = busway.v1.IEvent & { alarm: busway.v1.IAlarm & { alarmId: string } };

/** An active alarm as fan-out keeps it in Redis (RedisKeys.activeAlarms) and the API returns it, version 1. */
export interface AlarmJson {
  alarmId: string;
  /** UNS subject of the series that raised it: the alarm's path and its score's metric. */
  path: string;
  code: string;
  severity: string;
  text: string;
  site: string;
  hall: string;
  row: string;
  rack: string;
  assetClass: string;
  asset: string;
  metric: string;
  /** When it was raised, RFC 3339 with nanoseconds. */
  raised: string;
  /** Event time of the raise event. */
  time: string;
  score?: number;
  peakScore?: number;
  label?: string;
  reason?: string;
  pointId?: string;
  /** Id of the raise event (its ce-id on events.v1.alarm). */
  eventId: string;
}

const violation = (message: string) => new Refused({ kind: 'poison', code: 'contract-violation', message });

/**
 * The alarm events of one ALARMS message, or why it is refused: it must be an EventBatch (ce-type) that
 * decodes, holds at least one event, and every event is of kind ALARM with an Alarm body and an alarm_id.
 * Never throws.
 */
export function parseAlarms(type: string, data: Uint8Array): AlarmEvent[] | Refused {
  if (type !== EventTypes.EventBatch) return violation(`expected ${EventTypes.EventBatch}, got '${type}'`);
  let batch: busway.v1.EventBatch;
  try {
    batch = busway.v1.EventBatch.decode(data);
  } catch (err) {
    return new Refused({ kind: 'poison', code: 'decode-error', message: (err as Error).message });
  }
  if (batch.events.length === 0) return violation('an EventBatch on ALARMS holds no event');
  for (const [i, e] of batch.events.entries()) {
    if (e.kind !== busway.v1.EventKind.EVENT_KIND_ALARM || !e.alarm)
      return violation(
        `event ${i} (${e.id || 'no id'}) is not an alarm: kind ${e.kind}${e.alarm ? '' : ', no Alarm body'}`,
      );
    if (!e.alarm.alarmId) return violation(`event ${i} (${e.id || 'no id'}) has no alarm_id`);
  }
  return batch.events as AlarmEvent[];
}

/** Where subscribers receive an alarm: events.v1.alarm.<site>.<hall>.<row>.<rack> (`_` for a missing part). */
export function alarmEventSubject(p: busway.v1.IUnsPath | null | undefined): string {
  return `events.v1.alarm.${token(p?.site ?? '')}.${token(p?.hall ?? '')}.${token(p?.row ?? '')}.${token(p?.rack ?? '')}`;
}

/** The Redis (and API) form of a raised alarm. */
export function alarmJson(e: AlarmEvent): AlarmJson {
  const a = e.alarm;
  const p = a.path ?? {};
  const s = a.anomaly;
  const raisedNs = a.raisedTimeNs && a.raisedTimeNs.toString() !== '0' ? a.raisedTimeNs : e.eventTimeNs;
  return {
    alarmId: a.alarmId,
    path: unsSubject(p, s?.metric ?? ''),
    code: a.code ?? '',
    severity: a.severity ?? '',
    text: a.text ?? '',
    site: p.site ?? '',
    hall: p.hall ?? '',
    row: p.row ?? '',
    rack: p.rack ?? '',
    assetClass: p.assetClass ?? '',
    asset: p.asset ?? '',
    metric: s?.metric ?? '',
    raised: rfc3339Nano(raisedNs),
    time: rfc3339Nano(e.eventTimeNs),
    ...(s ? { score: s.score ?? 0, label: s.label ?? '', reason: s.reason ?? '' } : {}),
    ...(a.peakScore != null ? { peakScore: a.peakScore } : {}),
    ...(s?.pointId || e.source?.address ? { pointId: s?.pointId || e.source?.address || '' } : {}),
    eventId: e.id ?? '',
  };
}

type AlarmPipeline = ChainableCommander & {
  buswayApplyAlarm(activeKey: string, clearedKey: string, ...args: string[]): ChainableCommander;
};

export interface AlarmDeps {
  /** The control tier's Redis connection. */
  redis: Redis;
  /** The control tier's NATS connection. */
  nc: NatsConnection;
  clearedAlarmTtlMs: number;
  log: Logger;
}

/**
 * The fanout-alarms batch handler. Each alarm updates the active set (raise: stored under its alarm_id unless
 * its clear came first; clear: removed and remembered), then goes to subscribers unchanged, unless it is a
 * raise its clear had already overtaken. Acked once Redis holds the state and NATS has the publications.
 */
export function alarmHandler(deps: AlarmDeps): {
  handle: (batch: JsMsg[], ctx: Context) => Promise<Outcome[]>;
  close: () => void;
} {
  deps.redis.defineCommand('buswayApplyAlarm', { numberOfKeys: 2, lua: APPLY_ALARM_LUA });
  const ignored = new LogSummary(deps.log, 'alarm raises ignored because their clear came first:');
  const ttl = String(deps.clearedAlarmTtlMs);

  const handle = async (batch: JsMsg[], ctx: Context): Promise<Outcome[]> => {
    const outcomes: Outcome[] = new Array<Outcome>(batch.length);
    const accepted: { at: number; msg: JsMsg; events: AlarmEvent[] }[] = [];
    for (const [at, msg] of batch.entries()) {
      const parsed = parseAlarms(readEnvelope(msg.headers).type, msg.data);
      if (parsed instanceof Refused) outcomes[at] = parsed.outcome;
      else accepted.push({ at, msg, events: parsed });
    }
    if (accepted.length === 0) return outcomes;
    const fail = (err: unknown, what?: string) => {
      for (const { at } of accepted) outcomes[at] = transient(err, what);
      return outcomes;
    };
    const pipe = deps.redis.pipeline() as AlarmPipeline;
    for (const { events } of accepted)
      for (const e of events) {
        const a = e.alarm;
        const value = a.active ? JSON.stringify(alarmJson(e)) : rfc3339Nano(e.eventTimeNs);
        pipe.buswayApplyAlarm(
          RedisKeys.activeAlarms,
          clearedAlarmKey(a.alarmId),
          a.alarmId,
          a.active ? '1' : '0',
          value,
          ttl,
        );
      }
    let applied: unknown[];
    try {
      applied = await execAll(pipe);
    } catch (err) {
      return fail(err);
    }
    let k = 0;
    for (const { at, msg, events } of accepted) {
      const env = readEnvelope(msg.headers);
      for (const [i, e] of events.entries()) {
        // a raise its clear overtook would be a ghost alarm for subscribers too
        if (applied[k++] === 0) {
          ignored.add(e.alarm.code || 'alarm');
          continue;
        }
        const h = fabricHeaders({
          type: EventTypes.EventBatch,
          source: env.source || '/busway/fanout',
          id: e.id || `${env.id}:${i}`,
          ...(env.time ? { time: env.time } : {}),
        });
        injectTrace(h, ctx);
        // one event per message, as the anomaly worker publishes: its bytes as they are (unknown fields kept)
        const data = events.length === 1 ? msg.data : busway.v1.EventBatch.encode({ events: [e] }).finish();
        deps.nc.publish(alarmEventSubject(e.alarm.path), data, { headers: h });
      }
      outcomes[at] = ACK;
    }
    try {
      await deps.nc.flush();
    } catch (err) {
      return fail(err, 'nats');
    }
    return outcomes;
  };
  return { handle, close: () => ignored.close() };
}
