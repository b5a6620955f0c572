// An OpenADR 3.1 event object (any JSON) -> grid-signal Events, one per interval payload, or reasons why not.
import { busway, Long, timeNsFromBigInt } from '@busway/proto';
import { readPayload } from './payloads.js';
import { revisionOf } from './revision.js';
import { addDuration, isOpenEnded, NOW_START, parseDateTime, parseDuration } from './time.js';
import { ucumOf } from './units.js';
import { readReportDescriptors, type ReportDescriptor } from './report-descriptor.js';

/** Dead-letter reason codes of this worker. */
export const RejectCode = {
  Contract: 'contract-violation',
  UnknownPayloadType: 'unknown-payload-type',
  BadPayload: 'bad-payload',
  BadDuration: 'bad-duration',
  BadTime: 'bad-time',
} as const;
export type RejectCode = (typeof RejectCode)[keyof typeof RejectCode];

/** Why (part of) an event was not turned into signals. */
export interface Reject {
  code: RejectCode;
  message: string;
  /** The interval it concerns; absent when the whole event is refused. */
  intervalId?: number;
  /** The payload it concerns; absent when the whole interval is refused. */
  payloadIndex?: number;
}

export interface EventPayloadDescriptor {
  payloadType: string;
  units?: string | null;
  currency?: string | null;
}

/** What the VEN knows of the event's program. */
export interface ProgramInfo {
  id: string;
  name: string;
  payloadDescriptors: EventPayloadDescriptor[];
}

/** An interval's active period in ns since the epoch; `endNs` undefined when open-ended. */
export interface ActivePeriod {
  intervalId: number;
  startNs: bigint;
  endNs?: bigint;
}

export interface DecodedEvent {
  eventId: string;
  programId: string;
  eventName: string;
  modificationNs: bigint;
  /** modification time + content digest: the dedup identity of this revision. */
  revision: string;
  priority?: number;
  targets: string[];
  periods: ActivePeriod[];
  signals: busway.v1.IEvent[];
  rejects: Reject[];
  reportDescriptors: ReportDescriptor[];
}

export type DecodeResult =
  { ok: true; event: DecodedEvent } | { ok: false; reject: Reject; eventId?: string; revision?: string };

export interface DecodeContext {
  vtnId: string;
  vtnUrl: string;
  program?: ProgramInfo;
  ingestTimeNs: Long;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const OBJECT_ID = /^[a-zA-Z0-9_-]{1,128}$/;
const isInt32 = (v: unknown): v is number => Number.isInteger(v) && Math.abs(v as number) < 2 ** 31;
const nullish = (v: unknown) => v === undefined || v === null;

class Refused extends Error {
  constructor(
    readonly code: RejectCode,
    message: string,
  ) {
    super(message);
  }
}

/** A period's start (or NOW_START) and duration, each undefined when absent; Refused when malformed. */
function readPeriod(v: unknown, where: string) {
  if (nullish(v)) return { start: undefined, duration: undefined };
  if (!isObj(v)) throw new Refused(RejectCode.Contract, `${where}.intervalPeriod must be an object`);
  const start = nullish(v.start)
    ? undefined
    : typeof v.start === 'string'
      ? parseDateTime(v.start)
      : undefined;
  if (!nullish(v.start) && start === undefined)
    throw new Refused(
      RejectCode.BadTime,
      `${where}.intervalPeriod.start is no RFC 3339 date-time: ${String(v.start)}`,
    );
  const duration = nullish(v.duration)
    ? undefined
    : typeof v.duration === 'string'
      ? parseDuration(v.duration)
      : undefined;
  if (!nullish(v.duration) && (duration === undefined || duration.negative))
    throw new Refused(
      RejectCode.BadDuration,
      `${where}.intervalPeriod.duration is no ISO 8601 duration of zero or more: ${String(v.duration)}`,
    );
  if (
    !nullish(v.randomizeStart) &&
    (typeof v.randomizeStart !== 'string' || !parseDuration(v.randomizeStart))
  )
    throw new Refused(
      RejectCode.BadDuration,
      `${where}.intervalPeriod.randomizeStart is no ISO 8601 duration`,
    );
  return { start, duration };
}

/** Event targets: 3.1 strings, or 3.0 valuesMaps ({type, values}) read as `type:value`. */
function readTargets(v: unknown): string[] {
  if (nullish(v)) return [];
  if (!Array.isArray(v)) throw new Refused(RejectCode.Contract, 'targets must be an array');
  return v.flatMap((t): string[] => {
    if (typeof t === 'string' && t.length > 0) return [t];
    if (isObj(t) && typeof t.type === 'string' && Array.isArray(t.values))
      return t.values.map((x) => `${t.type as string}:${String(x)}`);
    throw new Refused(RejectCode.Contract, 'targets must be strings');
  });
}

function descriptorsOf(v: unknown): EventPayloadDescriptor[] {
  if (!Array.isArray(v)) return [];
  return v.filter((d): d is EventPayloadDescriptor => isObj(d) && typeof d.payloadType === 'string');
}

/**
 * Reads one event object. Never throws: a fault of the whole event (no id, no program, a bad modification
 * time or event period) refuses it; a fault of one interval or payload refuses that part and keeps the rest.
 */
export function decodeEvent(raw: unknown, ctx: DecodeContext): DecodeResult {
  const eventId = isObj(raw) && typeof raw.id === 'string' && OBJECT_ID.test(raw.id) ? raw.id : undefined;
  try {
    if (!isObj(raw)) throw new Refused(RejectCode.Contract, 'an event must be a JSON object');
    if (!eventId) throw new Refused(RejectCode.Contract, 'event id must be 1 to 128 of [a-zA-Z0-9_-]');
    if (typeof raw.programID !== 'string' || !OBJECT_ID.test(raw.programID))
      throw new Refused(RejectCode.Contract, 'programID must be 1 to 128 of [a-zA-Z0-9_-]');
    const mod =
      typeof raw.modificationDateTime === 'string' ? parseDateTime(raw.modificationDateTime) : undefined;
    if (mod === undefined || mod === NOW_START || mod < 0n)
      throw new Refused(
        RejectCode.BadTime,
        `modificationDateTime is no RFC 3339 date-time after 1970: ${String(raw.modificationDateTime)}`,
      );
    const revision = revisionOf(mod, raw);
    try {
      return { ok: true, event: decodeValid(raw, eventId, raw.programID, mod, revision, ctx) };
    } catch (err) {
      if (err instanceof Refused)
        return { ok: false, reject: { code: err.code, message: err.message }, eventId, revision };
      throw err;
    }
  } catch (err) {
    if (err instanceof Refused)
      return { ok: false, reject: { code: err.code, message: err.message }, eventId };
    // a bug, not bad input: still no crash, the event is dead-lettered with what went wrong
    return {
      ok: false,
      reject: { code: RejectCode.Contract, message: `unreadable event: ${String(err)}` },
      eventId,
    };
  }
}

function decodeValid(
  raw: Obj,
  eventId: string,
  programId: string,
  modNs: bigint,
  revision: string,
  ctx: DecodeContext,
): DecodedEvent {
  if (!nullish(raw.eventName) && typeof raw.eventName !== 'string')
    throw new Refused(RejectCode.Contract, 'eventName must be text');
  if (
    !nullish(raw.priority) &&
    !(Number.isInteger(raw.priority) && (raw.priority as number) >= 0 && (raw.priority as number) < 2 ** 32)
  )
    throw new Refused(RejectCode.Contract, 'priority must be an integer >= 0');
  if (!nullish(raw.duration) && (typeof raw.duration !== 'string' || !parseDuration(raw.duration)))
    throw new Refused(
      RejectCode.BadDuration,
      `event duration is no ISO 8601 duration: ${String(raw.duration)}`,
    );
  if (!nullish(raw.intervals) && !Array.isArray(raw.intervals))
    throw new Refused(RejectCode.Contract, 'intervals must be an array');
  const targets = readTargets(raw.targets);
  const eventPeriod = readPeriod(raw.intervalPeriod, 'event');
  const now = (s: bigint | typeof NOW_START | undefined) => (s === NOW_START ? modNs : s);
  const descriptors = [...descriptorsOf(raw.payloadDescriptors), ...(ctx.program?.payloadDescriptors ?? [])];
  const event: DecodedEvent = {
    eventId,
    programId,
    eventName: (raw.eventName as string | undefined) ?? '',
    modificationNs: modNs,
    revision,
    ...(nullish(raw.priority) ? {} : { priority: raw.priority as number }),
    targets,
    periods: [],
    signals: [],
    rejects: [],
    reportDescriptors: [],
  };
  const reports = readReportDescriptors(raw.reportDescriptors);
  if (typeof reports === 'string') event.rejects.push({ code: RejectCode.Contract, message: reports });
  else event.reportDescriptors = reports;

  let cursor = now(eventPeriod.start);
  const seen = new Set<number>();
  for (const [index, interval] of ((raw.intervals as unknown[] | undefined) ?? []).entries()) {
    const where = `interval ${index}`;
    const intervalId = isObj(interval) && isInt32(interval.id) ? interval.id : undefined;
    try {
      if (!isObj(interval) || intervalId === undefined)
        throw new Refused(RejectCode.Contract, `${where}: id must be a 32-bit integer`);
      if (seen.has(intervalId))
        throw new Refused(RejectCode.Contract, `${where}: interval id ${intervalId} repeats`);
      seen.add(intervalId);
      if (!Array.isArray(interval.payloads))
        throw new Refused(RejectCode.Contract, `${where}: payloads must be an array`);
      const own = readPeriod(interval.intervalPeriod, where);
      const startNs = now(own.start) ?? cursor;
      if (startNs === undefined)
        throw new Refused(
          RejectCode.BadTime,
          `${where}: no start (neither the interval nor the event gives one, or it follows an open-ended interval)`,
        );
      if (startNs < 0n) throw new Refused(RejectCode.BadTime, `${where}: starts before 1970`);
      const duration = own.duration ?? eventPeriod.duration;
      const endNs =
        duration === undefined || isOpenEnded(duration) ? undefined : addDuration(startNs, duration);
      if (duration !== undefined && !isOpenEnded(duration) && endNs === undefined)
        throw new Refused(RejectCode.BadDuration, `${where}: start plus duration is out of range`);
      cursor = endNs;
      event.periods.push({ intervalId, startNs, ...(endNs === undefined ? {} : { endNs }) });
      for (const [p, payload] of interval.payloads.entries()) {
        const signal = signalOf(
          payload,
          { ...event, intervalId, payloadIndex: p, startNs, endNs, descriptors },
          ctx,
        );
        if ('code' in signal) event.rejects.push({ ...signal, intervalId, payloadIndex: p });
        else event.signals.push(signal);
      }
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      event.rejects.push({
        code: err.code,
        message: err.message,
        ...(intervalId === undefined ? {} : { intervalId }),
      });
    }
  }
  return event;
}

interface SignalPlace extends DecodedEvent {
  intervalId: number;
  payloadIndex: number;
  startNs: bigint;
  endNs?: bigint;
  descriptors: EventPayloadDescriptor[];
}

function signalOf(payload: unknown, at: SignalPlace, ctx: DecodeContext): busway.v1.IEvent | Reject {
  const where = `interval ${at.intervalId} payload ${at.payloadIndex}`;
  if (
    !isObj(payload) ||
    typeof payload.type !== 'string' ||
    payload.type.length < 1 ||
    payload.type.length > 128
  )
    return { code: RejectCode.Contract, message: `${where}: type must be text of 1 to 128 characters` };
  const values = readPayload(payload.type, payload.values);
  if (typeof values === 'string')
    return {
      code: values.startsWith('unknown payload type') ? RejectCode.UnknownPayloadType : RejectCode.BadPayload,
      message: `${where}: ${values}`,
    };
  const descriptor = at.descriptors.find((d) => d.payloadType === payload.type);
  const { unit, factor } = ucumOf(payload.type, descriptor?.units, descriptor?.currency);
  const numbers = values.numbers.map((v) => v * factor);
  return {
    id: `openadr:${ctx.vtnId}:${at.eventId}:${at.revision}:${at.intervalId}:${at.payloadIndex}`,
    kind: busway.v1.EventKind.EVENT_KIND_GRID,
    eventTimeNs: timeNsFromBigInt(at.modificationNs),
    // the VTN's own clock stamped the revision; its discipline is unknown to the VEN
    clockSource: busway.v1.ClockSource.CLOCK_SOURCE_DEVICE,
    ingestTimeNs: ctx.ingestTimeNs,
    source: { protocol: 'openadr', sourceId: ctx.vtnId, address: `${ctx.vtnUrl}/events/${at.eventId}` },
    sequence: Long.fromString((at.modificationNs / 1_000_000n).toString(), true),
    grid: {
      program: ctx.program?.name ?? at.programId,
      signalType: payload.type,
      value: numbers[0] ?? 0,
      unit,
      startNs: timeNsFromBigInt(at.startNs),
      endNs: timeNsFromBigInt(at.endNs ?? 0n),
      eventId: at.eventId,
      programId: at.programId,
      intervalId: at.intervalId,
      modificationTimeNs: timeNsFromBigInt(at.modificationNs),
      ...(at.priority === undefined ? {} : { priority: at.priority }),
      targets: at.targets,
      text: values.texts.join('\n'),
      values: numbers,
      points: values.points,
      status: busway.v1.GridSignalStatus.GRID_SIGNAL_STATUS_ACTIVE,
      currency: descriptor?.currency ?? '',
      sourceUnit: descriptor?.units ?? '',
      eventName: at.eventName,
    },
  };
}

/**
 * The signals that withdraw an event: its last published signals, stamped CANCELLED at the time the VEN
 * learned of it (the VTN gives no time for a deletion), with ids of their own.
 */
export function cancellationOf(published: busway.v1.IEvent[], ingestTimeNs: Long): busway.v1.IEvent[] {
  return published.map((e) => ({
    ...e,
    id: `${(e.id ?? '').split(':').slice(0, 3).join(':')}:cancelled:${(e.id ?? '').split(':').slice(4).join(':')}`,
    eventTimeNs: ingestTimeNs,
    clockSource: busway.v1.ClockSource.CLOCK_SOURCE_INGEST,
    ingestTimeNs,
    grid: { ...e.grid, status: busway.v1.GridSignalStatus.GRID_SIGNAL_STATUS_CANCELLED },
  }));
}
