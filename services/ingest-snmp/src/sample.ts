import { busway, Long, timeNsFromMs } from '@busway/proto';
import type { MissingFlag, PointValue } from './varbind.js';

/** Why a point has no value: the flag its QUALITY_BAD sample carries. */
export type BadFlag = MissingFlag | 'read-failed' | 'request-failed' | 'bad-response' | 'decode-error';

/** What every sample of one poll cycle (or one trap) of one source shares. */
export interface SampleStamp {
  /** Target id, or the agent address of a trap from no configured target. */
  sourceId: string;
  /** `<host>:<port>` of a polled target, the agent address of a trap: the OID is appended. */
  addressBase: string;
  /** Poll start or trap arrival (ms since the epoch): the event time and the sequence of its samples. */
  atMs: number;
  /** The samples' sequence when not atMs (traps: strictly increasing over the receiver). */
  sequence?: number;
  ingestTimeNs: Long;
}

/** What a sample needs of its point. */
export interface SamplePoint {
  name: string;
  oid: string;
  unit: string;
}

export function pointIdOf(sourceId: string, name: string): string {
  return `snmp:${sourceId}:${name}`;
}

function baseSample(stamp: SampleStamp, point: SamplePoint): busway.v1.ISample {
  return {
    pointId: pointIdOf(stamp.sourceId, point.name),
    unit: point.unit,
    eventTimeNs: timeNsFromMs(stamp.atMs),
    clockSource: busway.v1.ClockSource.CLOCK_SOURCE_INGEST, // SNMP values carry no timestamp: the poll (or arrival) time is it
    ingestTimeNs: stamp.ingestTimeNs,
    source: { protocol: 'snmp', address: `${stamp.addressBase}/${point.oid}`, sourceId: stamp.sourceId },
    sequence: Long.fromNumber(stamp.sequence ?? stamp.atMs, true),
  };
}

export function goodSample(stamp: SampleStamp, point: SamplePoint, v: PointValue): busway.v1.ISample {
  const s = { ...baseSample(stamp, point), quality: busway.v1.Quality.QUALITY_GOOD };
  if (v.kind === 'int') return { ...s, intValue: v.value };
  if (v.kind === 'string') return { ...s, stringValue: v.value };
  return { ...s, doubleValue: v.value };
}

/** A point without a value: QUALITY_BAD, flagged with why, so it is never silently missing. */
export function badSample(stamp: SampleStamp, point: SamplePoint, flag: BadFlag): busway.v1.ISample {
  return { ...baseSample(stamp, point), quality: busway.v1.Quality.QUALITY_BAD, flags: [flag] };
}

/** A trap as a whole: its OID as the value, flagged `trap`. */
export function trapSample(stamp: SampleStamp, trapOid: string): busway.v1.ISample {
  return {
    ...baseSample(stamp, { name: 'trap', oid: trapOid, unit: '' }),
    stringValue: trapOid,
    quality: busway.v1.Quality.QUALITY_GOOD,
    flags: ['trap'],
  };
}
