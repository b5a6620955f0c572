import type { busway } from '@busway/proto';

// A MetricValue's identity, unit and value: the real-world forms BMCs send them in.

const MAX_METRIC_LENGTH = 512;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The metric a property URI names: the part after `/redfish/v1/`, the JSON pointer's `#` dropped,
 * e.g. `/redfish/v1/Chassis/1/Power#/PowerControl/0/PowerConsumedWatts` → `Chassis/1/Power/PowerControl/0/PowerConsumedWatts`.
 */
export function propertyPathOf(uri: string): string | undefined {
  const path = uri
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '')
    .replace(/^\/?redfish\/v1(?=\/|#|$)/i, '')
    .replace(/#/g, '/')
    .replace(/\/{2,}/g, '/')
    .replace(/^\/+|\/+$/g, '');
  if (path === '' || path.length > MAX_METRIC_LENGTH || CONTROL.test(path) || /\s/.test(path))
    return undefined;
  return path;
}

/**
 * The bridge's metric name of a MetricValue: its MetricProperty's path (unique per resource and property, and
 * stable when firmware drops MetricId), with the MetricId appended when it names something else than the
 * property (a calculated metric such as AverageConsumedWatts); the MetricId alone when there is no property.
 */
export function metricOf(mv: { MetricId?: unknown; MetricProperty?: unknown }): string | undefined {
  const path = typeof mv.MetricProperty === 'string' ? propertyPathOf(mv.MetricProperty) : undefined;
  const raw = typeof mv.MetricId === 'string' ? mv.MetricId.trim() : '';
  const id = raw !== '' && raw.length <= MAX_METRIC_LENGTH && !CONTROL.test(raw) ? raw : undefined;
  if (path && id && id !== path.slice(path.lastIndexOf('/') + 1)) return `${path}/${id}`;
  return path ?? id;
}

/** Units implied by Redfish property names (Power, Thermal, Sensor schemas), as UCUM or a known spelling. */
const UNIT_SUFFIXES: [RegExp, string][] = [
  [/Watts$/, 'W'],
  [/KiloWattHours$|kWh$/, 'kW.h'],
  [/Celsius$/, 'Cel'],
  [/Volts$/, 'V'],
  [/Amps$/, 'A'],
  [/RPM$/, 'RPM'],
  [/Percent$/, '%'],
];

/** The unit a property name implies (`PowerConsumedWatts` → W), or '' when it implies none. */
export function unitFromName(metric: string): string {
  const name = metric.slice(metric.lastIndexOf('/') + 1);
  return UNIT_SUFFIXES.find(([re]) => re.test(name))?.[1] ?? '';
}

/** A sample's value, or null for a MetricValue of null (the sensor has no reading now). */
export type MetricReading =
  | { ok: true; value: Pick<busway.v1.ISample, 'doubleValue' | 'stringValue' | 'boolValue'> | null }
  | { ok: false; reason: string };

/**
 * Reads a MetricValue: the schema's string (a decimal number becomes a double, `true`/`false` a boolean, other text
 * stays text), or the JSON number or boolean some BMCs send instead. Objects and arrays are refused.
 */
export function readMetricValue(v: unknown): MetricReading {
  if (v === null) return { ok: true, value: null };
  if (typeof v === 'number')
    return Number.isFinite(v)
      ? { ok: true, value: { doubleValue: v } }
      : { ok: false, reason: 'not a finite number' };
  if (typeof v === 'boolean') return { ok: true, value: { boolValue: v } };
  if (typeof v !== 'string')
    return { ok: false, reason: `MetricValue is ${Array.isArray(v) ? 'an array' : typeof v}, not a string` };
  const text = v.trim();
  if (DECIMAL.test(text)) {
    const n = Number(text);
    return Number.isFinite(n)
      ? { ok: true, value: { doubleValue: n } }
      : { ok: false, reason: `'${text.slice(0, 40)}' overflows a double` };
  }
  const lower = text.toLowerCase();
  if (lower === 'true' || lower === 'false') return { ok: true, value: { boolValue: lower === 'true' } };
  if (text.length > 1024) return { ok: false, reason: 'text MetricValue over 1024 characters' };
  return { ok: true, value: { stringValue: v } };
}
