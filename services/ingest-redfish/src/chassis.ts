import { ownValue } from '@busway/runtime';
import { busway, Long, timeNsFromMs } from '@busway/proto';
import { isObject } from './discovery.js';
import { readMetricValue, unitFromName } from './metric.js';

/** The readings of a chassis' legacy Power and Thermal resources that become samples, by array and property. */
const READINGS: { resource: 'Power' | 'Thermal'; array: string; properties: string[] }[] = [
  { resource: 'Power', array: 'PowerControl', properties: ['PowerConsumedWatts'] },
  {
    resource: 'Power',
    array: 'PowerSupplies',
    properties: ['PowerInputWatts', 'PowerOutputWatts', 'LineInputVoltage'],
  },
  { resource: 'Power', array: 'Voltages', properties: ['ReadingVolts'] },
  { resource: 'Thermal', array: 'Temperatures', properties: ['ReadingCelsius'] },
  { resource: 'Thermal', array: 'Fans', properties: ['Reading'] },
];

/** Units of properties whose name does not say it. */
const NAMED_UNITS: Record<string, string> = { LineInputVoltage: 'V' };
const FAN_UNITS: Record<string, string> = { RPM: 'RPM', Percent: '%' };

export interface ChassisReading {
  /** `Chassis/<id>/Thermal/Temperatures/3/ReadingCelsius`: the metric a MetricProperty to it would give. */
  metric: string;
  sample?: busway.v1.ISample;
  /** Why the property did not become a sample. */
  problem?: string;
}

/**
 * The samples of one chassis' Power or Thermal resource as polled at `pollMs` (they carry no time of their own:
 * clock source INGEST). A reading of null is a QUALITY_BAD sample flagged `no-reading`.
 */
export function chassisReadings(
  endpoint: { id: string; url: string },
  chassisId: string,
  resource: 'Power' | 'Thermal',
  doc: unknown,
  pollMs: number,
  ingestTimeNs: Long,
): ChassisReading[] {
  if (!isObject(doc)) return [];
  const out: ChassisReading[] = [];
  for (const r of READINGS.filter((x) => x.resource === resource)) {
    const members = doc[r.array];
    if (!Array.isArray(members)) continue;
    members.forEach((member: unknown, i) => {
      if (!isObject(member)) return;
      for (const property of r.properties) {
        if (!(property in member)) continue;
        const metric = `Chassis/${chassisId}/${resource}/${r.array}/${i}/${property}`;
        const reading = readMetricValue(member[property]);
        if (!reading.ok) {
          out.push({ metric, problem: reading.reason });
          continue;
        }
        const unit =
          r.array === 'Fans'
            ? (ownValue(FAN_UNITS, String(member.ReadingUnits)) ?? '')
            : (ownValue(NAMED_UNITS, property) ?? unitFromName(property));
        out.push({
          metric,
          sample: {
            pointId: `redfish:${endpoint.id}:${metric}`,
            unit,
            eventTimeNs: timeNsFromMs(pollMs),
            clockSource: busway.v1.ClockSource.CLOCK_SOURCE_INGEST,
            ingestTimeNs,
            quality: reading.value === null ? busway.v1.Quality.QUALITY_BAD : busway.v1.Quality.QUALITY_GOOD,
            flags: reading.value === null ? ['no-reading'] : [],
            source: {
              protocol: 'redfish',
              address: `${endpoint.url}/redfish/v1/Chassis/${chassisId}/${resource}#/${r.array}/${i}/${property}`,
              sourceId: endpoint.id,
            },
            sequence: Long.fromNumber(pollMs, true),
            ...reading.value,
          },
        });
      }
    });
  }
  return out;
}
