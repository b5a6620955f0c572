// Public subjects and streams of the fabric, version 1. The AsyncAPI document mirrors these.

/** JetStream streams and the subjects they capture. */
export const Streams = {
  Raw: { name: 'RAW', subjects: ['raw.v1.>'] },
  Norm: { name: 'NORM', subjects: ['norm.v1.>'] },
  Ordered: { name: 'ORDERED', subjects: ['ordered.v1.>'] },
  Incidents: { name: 'INCIDENTS', subjects: ['incident.v1.>'] },
  Anomalies: { name: 'ANOMALIES', subjects: ['anomaly.v1.>'] },
  DeadLetter: { name: 'DLQ', subjects: ['dlq.v1.>'] },
  Audit: { name: 'AUDIT', subjects: ['audit.v1.>'] },
  /** Anomaly alarms, raised and cleared (EventBatch, one Event of kind ALARM each). */
  Alarms: { name: 'ALARMS', subjects: ['alarm.v1.>'] },
  /** Normalized history, one subject per point: what fan-out publishes on the UNS. */
  Uns: { name: 'UNS', subjects: ['uns.v1.>'] },
  /** 1-minute rollups (min/max/sum/count) of every numeric point. */
  Rollup1m: { name: 'ROLLUP_1M', subjects: ['rollup.v1.1m.>'] },
  /** 1-hour rollups, kept longest. */
  Rollup1h: { name: 'ROLLUP_1H', subjects: ['rollup.v1.1h.>'] },
  /** Supervisory commands and their confirmations: the control tier's own stream, never behind the samples. */
  Control: { name: 'CONTROL', subjects: ['control.v1.>'] },
} as const;
export type StreamKey = keyof typeof Streams;

/** CloudEvents `ce-type` of each payload: a consumer decodes by it. */
export const EventTypes = {
  SampleBatch: 'busway.v1.SampleBatch',
  EventBatch: 'busway.v1.EventBatch',
  Incident: 'busway.v1.Incident',
  AnomalyBatch: 'busway.v1.AnomalyBatch',
  SparkplugPayload: 'org.eclipse.tahu.protobuf.Payload',
  /** A source's message exactly as it arrived (any format), kept briefly for audit and replay. */
  Original: 'busway.v1.Original',
  Rollup: 'busway.v1.Rollup',
  /** A supervisory write request (control.v1.command.…). */
  Command: 'busway.v1.Command',
  /** One step of a command: accepted, rejected, sent, confirmed, failed, expired (control.v1.result.…). */
  CommandStatus: 'busway.v1.CommandStatus',
} as const;
export type EventType = (typeof EventTypes)[keyof typeof EventTypes];

export const Subjects = {
  /** Raw samples from an ingest bridge: raw.v1.samples.<protocol>.<source> */
  rawSamples: (protocol: string, source: string) => `raw.v1.samples.${token(protocol)}.${token(source)}`,
  /** Raw discrete events from a source: raw.v1.events.<source> */
  rawEvents: (source: string) => `raw.v1.events.${token(source)}`,
  /** Normalized samples of one rack or area: norm.v1.samples.<site>.<hall>.<row>.<rack> */
  normSamples: (site: string, hall: string, row: string, rack: string) =>
    `norm.v1.samples.${token(site)}.${token(hall)}.${token(row)}.${token(rack)}`,
  /** Normalized events: norm.v1.events.<kind> */
  normEvents: (kind: string) => `norm.v1.events.${token(kind)}`,
  /** Event-time ordered, deduplicated samples: ordered.v1.samples.<site>.<hall>.<row>.<rack> */
  orderedSamples: (site: string, hall: string, row: string, rack: string) =>
    `ordered.v1.samples.${token(site)}.${token(hall)}.${token(row)}.${token(rack)}`,
  orderedEvents: (kind: string) => `ordered.v1.events.${token(kind)}`,
  /** Samples later than the watermark allowed (the late side output): ordered.v1.late.<site>.<hall>.<row>.<rack> */
  orderedLate: (site: string, hall: string, row: string, rack: string) =>
    `ordered.v1.late.${token(site)}.${token(hall)}.${token(row)}.${token(rack)}`,
  /** Correlated incidents: incident.v1.<site>.<kind> */
  incident: (site: string, kind: string) => `incident.v1.${token(site)}.${token(kind)}`,
  /** Anomaly scores of one rack or area: anomaly.v1.<site>.<hall>.<row>.<rack> */
  anomaly: (site: string, hall: string, row: string, rack: string) =>
    `anomaly.v1.${token(site)}.${token(hall)}.${token(row)}.${token(rack)}`,
  /** Anomaly alarms of one rack or area: alarm.v1.<site>.<hall>.<row>.<rack> */
  alarm: (site: string, hall: string, row: string, rack: string) =>
    `alarm.v1.${token(site)}.${token(hall)}.${token(row)}.${token(rack)}`,
  /** Source messages as they arrived, for audit and replay: audit.v1.<protocol>.<source> */
  audit: (protocol: string, source: string) => `audit.v1.${token(protocol)}.${token(source)}`,
  /**
   * A Sparkplug edge node's messages (its devices' too) as they arrived, in arrival order, which sparkplug-decode
   * reads: audit.v1.sparkplug.<group>.<edge>
   */
  sparkplugOriginal: (group: string, edge: string) => `audit.v1.sparkplug.${token(group)}.${token(edge)}`,
  /** Every edge node's `sparkplugOriginal` subject, or one group's: exactly two tokens after `sparkplug`. */
  sparkplugOriginalFilter: (group?: string) =>
    `audit.v1.sparkplug.${group === undefined ? '*' : token(group)}.*`,
  /** Dead letters of one stage: dlq.v1.<stage> */
  deadLetter: (stage: string) => `dlq.v1.${token(stage)}`,
  /** Rollup of one point: rollup.v1.<1m|1h>.<site>.<hall>.<row>.<rack>.<class>.<asset>.<metric...>, from its UNS subject */
  rollup: (period: '1m' | '1h', unsSubject: string) =>
    `rollup.v1.${period}.${unsSubject.replace(/^uns\.v1\./, '')}`,
  /** A supervisory write request for one point: control.v1.command.<site>.<hall>.<row>.<rack>.<class>.<asset>.<metric...>, from its UNS subject */
  controlCommand: (unsSubject: string) => `control.v1.command.${unsSubject.replace(/^uns\.v1\./, '')}`,
  /** What became of a command (accepted, applied, read back, refused): control.v1.result.<UNS path>, from its UNS subject */
  controlResult: (unsSubject: string) => `control.v1.result.${unsSubject.replace(/^uns\.v1\./, '')}`,
} as const;

const UNSAFE = /[^a-z0-9_-]+/g;

/** One subject token: lower case, [a-z0-9_-] only, never empty (NATS forbids '.', '*', '>' and spaces). */
export function token(raw: string): string {
  const t = raw
    .toLowerCase()
    .replace(UNSAFE, '-')
    .replace(/^-+|-+$/g, '');
  return t === '' ? '_' : t;
}
