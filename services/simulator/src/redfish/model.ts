// The resources of a simulated Redfish service (DMTF DSP0268): chassis readings and MetricReport v1.5 bodies.

export const ROOT = '/redfish/v1';

/** One chassis (a node, a GPU tray) as its BMC sees it: the legacy Power and Thermal resources. */
export interface ChassisState {
  id: string;
  /** PowerControl[0].PowerConsumedWatts; null while the sensor is unavailable. */
  powerW: number | null;
  temperatures: { name: string; celsius: number | null }[];
  fans: { name: string; rpm: number | null }[];
}

/**
 * How this service bends the schema the way real BMCs do. Changed at run time by tests and the simulator.
 */
export interface RedfishQuirks {
  /** MetricValue as a JSON number instead of the schema's string. @default false */
  numericValues: boolean;
  /** Leave MetricId out of every MetricValue (clients derive the metric from MetricProperty). @default false */
  omitMetricId: boolean;
  /** Timestamps in this offset from UTC, in minutes (0: `Z`). @default 0 */
  timestampOffsetMin: number;
  /** `+0100` instead of `+01:00`. @default false */
  offsetWithoutColon: boolean;
  /** Digits of the seconds' fraction, 0 to 9. @default 3 */
  fractionDigits: number;
  /** `$filter` on the SSE URI is understood; when false a request with one gets 400. @default true */
  sseFilter: boolean;
}

export const DEFAULT_QUIRKS: RedfishQuirks = {
  numericValues: false,
  omitMetricId: false,
  timestampOffsetMin: 0,
  offsetWithoutColon: false,
  fractionDigits: 3,
  sseFilter: true,
};

/** One metric of a report definition: the property of each chassis it reads. */
export interface ReportMetric {
  metricId: string;
  /** Where it comes from: the chassis' value, or null when unavailable. */
  read: (c: ChassisState) => { property: string; value: number | null }[];
  units: string;
}

/** The two metrics every simulated report carries: node power and each temperature sensor. */
export const STANDARD_METRICS: ReportMetric[] = [
  {
    metricId: 'PowerConsumedWatts',
    units: 'W',
    read: (c) => [
      { property: `${ROOT}/Chassis/${c.id}/Power#/PowerControl/0/PowerConsumedWatts`, value: c.powerW },
    ],
  },
  {
    metricId: 'ReadingCelsius',
    units: 'Cel',
    read: (c) =>
      c.temperatures.map((t, i) => ({
        property: `${ROOT}/Chassis/${c.id}/Thermal#/Temperatures/${i}/ReadingCelsius`,
        value: t.celsius,
      })),
  },
];

/** RFC 3339 of a time in ns since the epoch, with the quirks' offset and fraction digits. */
export function formatRedfishTime(
  ns: bigint,
  quirks: Pick<RedfishQuirks, 'timestampOffsetMin' | 'offsetWithoutColon' | 'fractionDigits'>,
): string {
  const offsetMin = quirks.timestampOffsetMin;
  const localNs = ns + BigInt(offsetMin) * 60_000_000_000n;
  const seconds = localNs / 1_000_000_000n;
  const frac = (localNs % 1_000_000_000n)
    .toString()
    .padStart(9, '0')
    .slice(0, Math.max(0, Math.min(9, quirks.fractionDigits)));
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  let zone = 'Z';
  if (offsetMin !== 0) {
    const abs = Math.abs(offsetMin);
    const hh = String(Math.floor(abs / 60)).padStart(2, '0');
    const mm = String(abs % 60).padStart(2, '0');
    zone = `${offsetMin < 0 ? '-' : '+'}${hh}${quirks.offsetWithoutColon ? '' : ':'}${mm}`;
  }
  return `${base}${frac ? `.${frac}` : ''}${zone}`;
}

/** The MetricReport resource (v1.5) of one definition at one moment. */
export function metricReportOf(
  definitionId: string,
  sequence: number,
  timeNs: bigint,
  chassis: Iterable<ChassisState>,
  metrics: ReportMetric[],
  quirks: RedfishQuirks,
): Record<string, unknown> {
  const timestamp = formatRedfishTime(timeNs, quirks);
  const values: Record<string, unknown>[] = [];
  for (const c of chassis)
    for (const m of metrics)
      for (const { property, value } of m.read(c)) {
        const mv: Record<string, unknown> = {
          MetricValue: value === null ? null : quirks.numericValues ? value : String(value),
          Timestamp: timestamp,
          MetricProperty: property,
          MetricDefinition: { '@odata.id': `${ROOT}/TelemetryService/MetricDefinitions/${m.metricId}` },
        };
        if (!quirks.omitMetricId) mv.MetricId = m.metricId;
        values.push(mv);
      }
  return {
    '@odata.type': '#MetricReport.v1_5_0.MetricReport',
    '@odata.id': `${ROOT}/TelemetryService/MetricReports/${definitionId}`,
    Id: definitionId,
    Name: `${definitionId} metric report`,
    ReportSequence: String(sequence),
    Timestamp: timestamp,
    MetricReportDefinition: {
      '@odata.id': `${ROOT}/TelemetryService/MetricReportDefinitions/${definitionId}`,
    },
    MetricValues: values,
  };
}

/** The legacy Power resource of a chassis (Power v1.7). */
export function powerOf(c: ChassisState): Record<string, unknown> {
  return {
    '@odata.type': '#Power.v1_7_1.Power',
    '@odata.id': `${ROOT}/Chassis/${c.id}/Power`,
    Id: 'Power',
    Name: 'Power',
    PowerControl: [
      {
        '@odata.id': `${ROOT}/Chassis/${c.id}/Power#/PowerControl/0`,
        MemberId: '0',
        Name: 'Chassis power',
        PowerConsumedWatts: c.powerW,
      },
    ],
  };
}

/** The legacy Thermal resource of a chassis (Thermal v1.7). */
export function thermalOf(c: ChassisState): Record<string, unknown> {
  return {
    '@odata.type': '#Thermal.v1_7_1.Thermal',
    '@odata.id': `${ROOT}/Chassis/${c.id}/Thermal`,
    Id: 'Thermal',
    Name: 'Thermal',
    Temperatures: c.temperatures.map((t, i) => ({
      '@odata.id': `${ROOT}/Chassis/${c.id}/Thermal#/Temperatures/${i}`,
      MemberId: String(i),
      Name: t.name,
      ReadingCelsius: t.celsius,
    })),
    Fans: c.fans.map((f, i) => ({
      '@odata.id': `${ROOT}/Chassis/${c.id}/Thermal#/Fans/${i}`,
      MemberId: String(i),
      Name: f.name,
      Reading: f.rpm,
      ReadingUnits: 'RPM',
    })),
  };
}

/** A resource collection body. */
export function collectionOf(path: string, type: string, members: string[]): Record<string, unknown> {
  return {
    '@odata.type': `#${type}`,
    '@odata.id': path,
    Name: type.split('.')[0],
    Members: members.map((m) => ({ '@odata.id': m })),
    'Members@odata.count': members.length,
  };
}

/** A Redfish error body (Base message registry). */
export function errorOf(code: string, message: string): Record<string, unknown> {
  return { error: { code: `Base.1.16.${code}`, message, '@Message.ExtendedInfo': [] } };
}
