import { busway, Long, timeNsFromMs } from '@busway/proto';
import type { BmsValue, Metadata } from './metadata.js';

/** One BMS value as a raw fabric sample: the unit from its metadata, the value typed by it, quality 1 = good. */
export function sampleOf(
  pointId: string,
  topic: string,
  v: BmsValue,
  meta: Metadata | undefined,
  sourceId: string,
  ingestTimeNs: Long,
): busway.v1.ISample {
  const s: busway.v1.ISample = {
    pointId,
    unit: meta?.engUnit ?? '',
    eventTimeNs: v.timestamp > 0 ? timeNsFromMs(v.timestamp) : undefined,
    clockSource: busway.v1.ClockSource.CLOCK_SOURCE_DEVICE,
    ingestTimeNs,
    quality: v.quality === 1 ? busway.v1.Quality.QUALITY_GOOD : busway.v1.Quality.QUALITY_BAD,
    source: { protocol: 'dsx-bms', address: topic, sourceId },
    sequence: Long.fromNumber(v.timestamp, true),
    flags: meta ? [] : ['no-metadata'],
  };
  if (v.value === null) {
    s.quality = busway.v1.Quality.QUALITY_BAD;
    s.flags = [...(s.flags ?? []), 'no-value'];
  } else if (typeof v.value === 'boolean') s.boolValue = v.value;
  else if (meta?.stateText && Number.isInteger(v.value)) s.intValue = Long.fromNumber(v.value);
  else s.doubleValue = v.value;
  return s;
}
