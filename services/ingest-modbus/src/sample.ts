import { busway, Long, timeNsFromMs } from '@busway/proto';
import type { DeviceConfig, PointConfig } from './config.js';
import type { PointValue } from './decode.js';

/** Why a point has no value this cycle: the flag its QUALITY_BAD sample carries. */
export type BadReadFlag = 'read-failed' | 'modbus-exception' | 'bad-response' | 'decode-error';

/** What every sample of one poll cycle of one device shares. */
export interface CycleStamp {
  device: DeviceConfig;
  /** When the cycle started (ms since the epoch): the event time and the sequence of its samples. */
  pollMs: number;
  ingestTimeNs: Long;
}

export function pointIdOf(device: DeviceConfig, point: PointConfig): string {
  return `modbus:${device.id}:${point.name}`;
}

/** `<host>:<port>/<unit id>/<table>/<address>`. */
export function sourceAddressOf(device: DeviceConfig, point: PointConfig): string {
  return `${device.host}:${device.port}/${device.unitId}/${point.table}/${point.address}`;
}

function baseSample(stamp: CycleStamp, point: PointConfig): busway.v1.ISample {
  return {
    pointId: pointIdOf(stamp.device, point),
    unit: point.unit,
    eventTimeNs: timeNsFromMs(stamp.pollMs),
    clockSource: busway.v1.ClockSource.CLOCK_SOURCE_INGEST, // a register has no timestamp: the poll time is it
    ingestTimeNs: stamp.ingestTimeNs,
    source: { protocol: 'modbus', address: sourceAddressOf(stamp.device, point), sourceId: stamp.device.id },
    sequence: Long.fromNumber(stamp.pollMs, true),
  };
}

export function goodSample(stamp: CycleStamp, point: PointConfig, v: PointValue): busway.v1.ISample {
  const s = { ...baseSample(stamp, point), quality: busway.v1.Quality.QUALITY_GOOD };
  if (v.kind === 'bool') return { ...s, boolValue: v.value };
  if (v.kind === 'int') return { ...s, intValue: Long.fromNumber(v.value) };
  return { ...s, doubleValue: v.value };
}

/** A point without a value this cycle: QUALITY_BAD, flagged with why, so it is never silently missing. */
export function badSample(stamp: CycleStamp, point: PointConfig, flag: BadReadFlag): busway.v1.ISample {
  return { ...baseSample(stamp, point), quality: busway.v1.Quality.QUALITY_BAD, flags: [flag] };
}
