import { busway, Long, timeNsFromMs } from '@busway/proto';
import type { DeviceConfig, ObjectConfig } from './config.js';
import type { SampleValue, Status } from './convert.js';

/** When a poll cycle started or a COV notification arrived (ms since the epoch), and when the bridge took it. */
export interface Stamp {
  ms: number;
  ingestTimeNs: Long;
}

/** Distinct increasing millisecond stamps: a device's polls and COV notifications share one batch-id space. */
export class StampClock {
  private last = 0;

  next(): number {
    this.last = Math.max(Date.now(), this.last + 1);
    return this.last;
  }
}

/** Why an object has no value: the flag its QUALITY_BAD sample carries. */
export type BadReadFlag = 'read-failed' | 'property-error' | 'unsupported-value';

/** `analog-input:1`. */
export function objectKeyOf(object: Pick<ObjectConfig, 'type' | 'instance'>): string {
  return `${object.type}:${object.instance}`;
}

/** `bacnet:<device id>:<object type>:<instance>`. */
export function pointIdOf(device: DeviceConfig, object: ObjectConfig): string {
  return `bacnet:${device.id}:${objectKeyOf(object)}`;
}

/** `<ip>:<port>/<object type>:<instance>`. */
export function sourceAddressOf(device: DeviceConfig, object: ObjectConfig): string {
  return `${device.address}/${objectKeyOf(object)}`;
}

function baseSample(
  stamp: Stamp,
  device: DeviceConfig,
  object: ObjectConfig,
  unit: string,
): busway.v1.ISample {
  return {
    pointId: pointIdOf(device, object),
    unit,
    eventTimeNs: timeNsFromMs(stamp.ms),
    clockSource: busway.v1.ClockSource.CLOCK_SOURCE_INGEST, // a present value carries no time: the read is it
    ingestTimeNs: stamp.ingestTimeNs,
    source: { protocol: 'bacnet', address: sourceAddressOf(device, object), sourceId: device.id },
    sequence: Long.fromNumber(stamp.ms, true),
  };
}

export function goodSample(
  stamp: Stamp,
  device: DeviceConfig,
  object: ObjectConfig,
  unit: string,
  value: SampleValue,
  status: Status,
): busway.v1.ISample {
  return {
    ...baseSample(stamp, device, object, unit),
    ...value,
    quality: status.quality,
    flags: status.flags,
  };
}

/** An object without a value this time: QUALITY_BAD, flagged with why, so it is never silently missing. */
export function badSample(
  stamp: Stamp,
  device: DeviceConfig,
  object: ObjectConfig,
  unit: string,
  flag: BadReadFlag,
): busway.v1.ISample {
  return {
    ...baseSample(stamp, device, object, unit),
    quality: busway.v1.Quality.QUALITY_BAD,
    flags: [flag],
  };
}
