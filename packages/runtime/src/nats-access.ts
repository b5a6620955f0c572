// Who may do what on NATS, one entry per worker: the single source of the nats-server permissions (users with
// least-privilege publish/subscribe allow lists), of the nsc commands for JWT accounts, and of the Helm chart's
// wiring (NATS user, inbox, zone, how it scales, what else it reaches). `node deploy/nats/generate.mjs` writes them.
import { Streams, token } from '@busway/proto';
import { subjectCovers } from './subject-match.js';

/**
 * IEC 62443 zones: workers in one zone share a trust level and reach the same things. The conduits between zones
 * are the subjects in the table below (ingest → process: raw.v1; process → deliver: ordered/incident/anomaly.v1;
 * deliver → IT: uns.v1, events.v1) and the network paths the chart's NetworkPolicies allow.
 */
export const Zones = {
  /** Faces OT: field devices and brokers (MQTT, Modbus, SNMP, BACnet, OPC UA); writes raw samples only. */
  Ingest: 'ingest',
  /** Computes on fabric data only: no field network, no IT consumer. */
  Process: 'process',
  /** Hands data to IT: UNS subjects, Redis last values. */
  Deliver: 'deliver',
  /** Writes to devices: the supervisory command worker, acting only on validated commands from the control tier. */
  Control: 'control',
  /** Creates streams and consumers: the provisioning job, nothing long-running. */
  Manage: 'manage',
  /** The simulated plant of demos and tests. */
  Simulate: 'simulate',
} as const;
export type Zone = (typeof Zones)[keyof typeof Zones];

/** singleton: one replica only (an MQTT session, devices polled once); horizontal: replicas share durable consumers; partitioned: a StatefulSet whose replicas own partitions. */
export type Scaling = 'singleton' | 'horizontal' | 'partitioned';

/** A network port a worker reaches on the field network, or listens on for field devices. */
export interface FieldPort {
  protocol: 'TCP' | 'UDP';
  port: number;
  /** Port the worker binds when it differs from `port` (an unprivileged one, behind a Service on `port`). */
  containerPort?: number;
  /** What it is for, shown in the chart's NetworkPolicy comments. */
  purpose: string;
}

/** One worker's access: everything its NATS user may do, and what the chart must let it reach. */
export interface WorkerAccess {
  /** `busway run <worker>`; NATS user `busway-<worker>`; dead letters on `dlq.v1.<worker>` (always allowed). */
  worker: string;
  zone: Zone;
  scaling: Scaling;
  /** Subjects it publishes to (JetStream or core NATS). */
  publish: readonly string[];
  /** Core NATS subscriptions besides its own inbox. */
  subscribe?: readonly string[];
  /** Durable pull consumers it reads (the provisioning job creates them); durable `*`: a family (partitions). */
  consume?: readonly { stream: string; durable: string }[];
  /** Streams whose durable consumers it re-creates and deletes itself (a partition owner rewinding its input). */
  manage?: readonly string[];
  /** Streams it reads from a position of its own (ordered consumers it creates, direct gets), acknowledging nothing. */
  read?: readonly string[];
  /** JetStream KV buckets it owns: creates, reads, writes and watches. */
  kv?: readonly string[];
  /** Services other than NATS it connects to. */
  uses?: readonly ('redis' | 'mqtt')[];
  /** Ports it reaches on the field network. */
  fieldEgress?: readonly FieldPort[];
  /** Ports field devices reach it on. */
  fieldIngress?: readonly FieldPort[];
}

const rawSamples = (protocol: string) => `raw.v1.samples.${token(protocol)}.>`;
const audit = (protocol: string) => `audit.v1.${token(protocol)}.>`;

/** Streams an egress worker may deliver from. */
const EGRESS_STREAMS = [
  Streams.Uns.name,
  Streams.Alarms.name,
  Streams.Incidents.name,
  Streams.Anomalies.name,
  Streams.Control.name,
];

/** Every worker's access. Adding a worker is one entry here, then `node deploy/nats/generate.mjs`. */
export const WORKER_ACCESS: readonly WorkerAccess[] = [
  {
    worker: 'ingest-sparkplug',
    zone: Zones.Ingest,
    scaling: 'singleton',
    // every message as it arrived, for sparkplug-decode
    publish: [audit('sparkplug')],
    uses: ['mqtt'],
  },
  {
    worker: 'sparkplug-decode',
    // it sends rebirth requests (NCMD) to edge nodes through the field broker
    zone: Zones.Ingest,
    // one replica per Sparkplug group (`groups`), each on its own durable `sparkplug-decode[-<group>]`
    scaling: 'singleton',
    publish: [rawSamples('sparkplug')],
    consume: [{ stream: Streams.Audit.name, durable: '*' }],
    // after a crash it re-creates its consumer at the ack floor, so a node's messages come back in order
    manage: [Streams.Audit.name],
    kv: ['sparkplug-births'],
    uses: ['mqtt'],
  },
  {
    worker: 'ingest-dsx',
    zone: Zones.Ingest,
    scaling: 'singleton',
    publish: [rawSamples('dsx-bms'), audit('dsx-bms')],
    uses: ['mqtt', 'redis'],
  },
  {
    worker: 'ingest-mqtt-json',
    zone: Zones.Ingest,
    scaling: 'singleton',
    publish: [rawSamples('mqtt'), audit('mqtt')],
    uses: ['mqtt'],
  },
  {
    worker: 'ingest-modbus',
    zone: Zones.Ingest,
    scaling: 'singleton',
    publish: [rawSamples('modbus'), audit('modbus')],
    fieldEgress: [{ protocol: 'TCP', port: 502, purpose: 'Modbus TCP devices' }],
  },
  {
    worker: 'ingest-snmp',
    zone: Zones.Ingest,
    scaling: 'singleton',
    publish: [rawSamples('snmp'), audit('snmp')],
    fieldEgress: [{ protocol: 'UDP', port: 161, purpose: 'SNMP agents' }],
    // the worker runs unprivileged: it binds trapPort 10162, its Service listens on 162
    fieldIngress: [
      { protocol: 'UDP', port: 162, containerPort: 10162, purpose: 'SNMP traps (trapPort 10162)' },
    ],
  },
  {
    worker: 'ingest-bacnet',
    zone: Zones.Ingest,
    scaling: 'singleton',
    publish: [rawSamples('bacnet'), audit('bacnet')],
    fieldEgress: [{ protocol: 'UDP', port: 47808, purpose: 'BACnet/IP devices' }],
    fieldIngress: [{ protocol: 'UDP', port: 47808, purpose: 'BACnet answers and COV notifications' }],
  },
  {
    worker: 'ingest-opcua',
    zone: Zones.Ingest,
    scaling: 'singleton',
    publish: [rawSamples('opcua')],
    fieldEgress: [{ protocol: 'TCP', port: 4840, purpose: 'OPC UA servers' }],
  },
  {
    worker: 'normalizer',
    zone: Zones.Process,
    scaling: 'horizontal',
    publish: ['norm.v1.>'],
    consume: [{ stream: Streams.Raw.name, durable: 'normalizer' }],
    uses: ['redis'],
  },
  {
    worker: 'correlator',
    zone: Zones.Process,
    scaling: 'partitioned',
    publish: ['ordered.v1.>', 'incident.v1.>'],
    // `correlator`, or with partitions `correlator-p<n>` and `correlator-p<n>-events`: NATS wildcards match whole
    // tokens only, so the family is `*`; the owner of a partition rewinds its consumers after a restart
    consume: [{ stream: Streams.Norm.name, durable: '*' }],
    manage: [Streams.Norm.name],
    uses: ['redis'],
  },
  {
    worker: 'anomaly',
    zone: Zones.Process,
    // each series' baseline lives in one process: replicas sharing a durable would split series at random
    // (scale out with one instance per filterSubject partition, each with its own durables)
    scaling: 'singleton',
    publish: ['anomaly.v1.>', 'alarm.v1.>'],
    consume: [
      { stream: Streams.Ordered.name, durable: 'anomaly' },
      { stream: Streams.Ordered.name, durable: 'anomaly-jobs' },
      { stream: Streams.Incidents.name, durable: 'anomaly-incidents' },
    ],
    uses: ['redis'],
  },
  {
    worker: 'fanout',
    zone: Zones.Deliver,
    scaling: 'horizontal',
    publish: ['uns.v1.>', 'events.v1.incident.>', 'events.v1.alarm.>'],
    consume: [
      { stream: Streams.Ordered.name, durable: 'fanout-samples' },
      { stream: Streams.Incidents.name, durable: 'fanout-incidents' },
      { stream: Streams.Anomalies.name, durable: 'fanout-anomalies' },
      { stream: Streams.Alarms.name, durable: 'fanout-alarms' },
    ],
    uses: ['redis'],
  },
  {
    worker: 'ingest-dcgm',
    zone: Zones.Ingest,
    scaling: 'singleton',
    publish: [rawSamples('dcgm'), audit('dcgm')],
    uses: ['redis'],
    fieldEgress: [{ protocol: 'TCP', port: 9400, purpose: 'DCGM exporters (/metrics)' }],
  },
  {
    worker: 'ingest-redfish',
    zone: Zones.Ingest,
    scaling: 'singleton',
    publish: [rawSamples('redfish'), audit('redfish')],
    fieldEgress: [{ protocol: 'TCP', port: 443, purpose: 'Redfish services of the BMCs (HTTPS, SSE)' }],
  },
  {
    worker: 'ingest-scheduler',
    zone: Zones.Ingest,
    scaling: 'singleton',
    // one event subject per configured source id (raw.v1.events.<source>)
    publish: ['raw.v1.events.>'],
    kv: ['scheduler-state'],
    fieldEgress: [
      { protocol: 'TCP', port: 6820, purpose: 'slurmrestd' },
      { protocol: 'TCP', port: 6443, purpose: 'Kubernetes API' },
    ],
  },
  {
    worker: 'ingest-openadr',
    zone: Zones.Ingest,
    scaling: 'singleton',
    publish: ['raw.v1.events.openadr'],
    // usage reports are computed from normalized meter samples
    read: [Streams.Norm.name],
    kv: ['openadr-ven'],
    fieldEgress: [{ protocol: 'TCP', port: 443, purpose: 'OpenADR 3 VTN' }],
  },
  {
    worker: 'history',
    zone: Zones.Process,
    // one reader and one checkpoint: a second replica would publish every rollup twice
    scaling: 'singleton',
    publish: ['rollup.v1.>'],
    read: [Streams.Ordered.name, Streams.Rollup1m.name],
    kv: ['busway-history'],
  },
  {
    worker: 'api',
    zone: Zones.Deliver,
    scaling: 'horizontal',
    // POST /v1/commands hands a write-scoped request to the command worker and waits for its verdict
    publish: ['control.v1.command.>'],
    // the live stream (SSE) subscribes to UNS patterns; history reads the stored streams by direct get
    subscribe: ['uns.v1.>', 'control.v1.result.>'],
    read: [Streams.Uns.name, Streams.Rollup1m.name, Streams.Rollup1h.name, 'KV_busway-commands'],
    uses: ['redis'],
    // apiPort 8081 in the chart: httpPort (8080) serves /healthz and /metrics in the same pod
    fieldIngress: [{ protocol: 'TCP', port: 8081, purpose: 'REST API and SSE for IT clients (apiPort)' }],
  },
  {
    worker: 'command',
    zone: Zones.Control,
    // one process keeps the rate limits and the confirmations; records are compare-and-set, never sent twice
    scaling: 'singleton',
    publish: ['control.v1.result.>'],
    consume: [{ stream: Streams.Control.name, durable: 'command' }],
    // readbacks: the UNS samples fanout publishes (or NORM with readbackSource: norm)
    subscribe: ['uns.v1.>', 'norm.v1.samples.>'],
    read: ['KV_sparkplug-births'],
    kv: ['busway-commands'],
    uses: ['redis', 'mqtt'],
    fieldEgress: [{ protocol: 'TCP', port: 502, purpose: 'Modbus TCP writes' }],
  },
  // egress: one durable per configured mapping, endpoint or subject (`egress-<worker>-<name>-…`), so the family is
  // `*` on the streams they may deliver from: the UNS history and the control tier
  {
    worker: 'egress-mqtt',
    zone: Zones.Deliver,
    // retained last values and per-topic order: one publisher
    scaling: 'singleton',
    publish: [],
    consume: EGRESS_STREAMS.map((stream) => ({ stream, durable: '*' })),
    uses: ['mqtt'],
  },
  {
    worker: 'egress-webhook',
    zone: Zones.Deliver,
    scaling: 'horizontal',
    publish: [],
    consume: EGRESS_STREAMS.map((stream) => ({ stream, durable: '*' })),
    fieldEgress: [{ protocol: 'TCP', port: 443, purpose: 'webhook endpoints (HTTPS)' }],
  },
  {
    worker: 'egress-otlp',
    zone: Zones.Deliver,
    // cumulative sums and the series cap live in the process
    scaling: 'singleton',
    publish: [],
    consume: EGRESS_STREAMS.map((stream) => ({ stream, durable: '*' })),
    uses: ['redis'],
    fieldEgress: [{ protocol: 'TCP', port: 4318, purpose: 'OTLP/HTTP metrics receiver' }],
  },
  {
    worker: 'simulator',
    zone: Zones.Simulate,
    scaling: 'singleton',
    publish: ['raw.v1.events.scheduler'],
    uses: ['mqtt'],
  },
];

/** NATS user of a worker (or of the provisioner). */
export const natsUserOf = (worker: string) => `busway-${worker}`;

/** The inbox a worker's replies arrive below; the runtime's default `natsInboxPrefix`. */
export const inboxPrefixOf = (worker: string) => `_INBOX.${worker}`;

/** Name of the provisioning job's user and inbox. */
export const PROVISIONER = 'provisioner';

/** Allow lists of one NATS user. */
export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
}

/** JetStream API subjects a pull consumer's reader needs: look it up, pull, acknowledge. Nothing to create or delete. */
function consumerSubjects(stream: string, durable: string): string[] {
  return [
    `$JS.API.CONSUMER.INFO.${stream}.${durable}`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
    `$JS.ACK.${stream}.${durable}.>`,
  ];
}

/**
 * A reader of a whole stream with ordered consumers: their names are random (`oc_<nuid>_<n>`) and NATS wildcards
 * match whole tokens, so it may look up and pull from any consumer of that stream, but acknowledge none and
 * delete none (an ordered consumer it leaves behind expires by itself).
 */
function readerSubjects(stream: string): string[] {
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.*`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
  ];
}

/** A stream whose durable consumers the worker re-creates and deletes (it reads the whole stream anyway). */
function managerSubjects(stream: string): string[] {
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.*`,
    `$JS.API.CONSUMER.DELETE.${stream}.*`,
  ];
}

/** A KV bucket's owner: create the bucket's stream, put, get (direct or not), watch with ordered consumers. */
function kvSubjects(bucket: string): string[] {
  const stream = `KV_${bucket}`;
  return [
    `$KV.${bucket}.>`,
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.CREATE.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.*`,
    `$JS.API.CONSUMER.DELETE.${stream}.*`,
    `$JS.FC.${stream}.>`,
  ];
}

/** A worker's NATS permissions: its subjects, its dead letters, its consumers and buckets, its own inbox. */
export function natsPermissionsOf(access: WorkerAccess): NatsPermissions {
  return {
    publish: unique([
      ...access.publish,
      `dlq.v1.${token(access.worker)}`,
      '$JS.API.INFO',
      ...(access.consume ?? []).flatMap((c) => consumerSubjects(c.stream, c.durable)),
      ...(access.read ?? []).flatMap(readerSubjects),
      ...(access.manage ?? []).flatMap(managerSubjects),
      ...(access.kv ?? []).flatMap(kvSubjects),
    ]),
    subscribe: unique([`${inboxPrefixOf(access.worker)}.>`, ...(access.subscribe ?? [])]),
  };
}

/**
 * The provisioning job: create and update streams and their durable consumers; read nothing, delete nothing.
 * Any stream name, so that a stream added to the contracts needs no new permission (updating a stream's limits
 * is already the power to age its data out: the provisioner is an administrator, kept to a short-lived job).
 */
export function provisionerPermissions(): NatsPermissions {
  return {
    publish: [
      '$JS.API.INFO',
      '$JS.API.STREAM.INFO.*',
      '$JS.API.STREAM.CREATE.*',
      '$JS.API.STREAM.UPDATE.*',
      '$JS.API.CONSUMER.INFO.*.*',
      '$JS.API.CONSUMER.CREATE.*.>',
      '$JS.API.CONSUMER.DURABLE.CREATE.*.*',
    ],
    subscribe: [`${inboxPrefixOf(PROVISIONER)}.>`],
  };
}

/** The CLI's users for people: an observer reads (`busway status`, `dlq`, `tail`); an operator also redrives. */
export const OBSERVER = 'observer';
export const OPERATOR = 'operator';

/**
 * An observer: every stream's and consumer's state, the dead letters (through ordered consumers it creates on
 * DLQ only) and a live view of any fabric subject (core subscriptions). It acknowledges and deletes nothing:
 * it cannot take a message from a worker.
 */
export function observerPermissions(): NatsPermissions {
  return {
    publish: unique([
      '$JS.API.INFO',
      '$JS.API.STREAM.LIST',
      '$JS.API.STREAM.NAMES',
      '$JS.API.STREAM.INFO.*',
      '$JS.API.CONSUMER.LIST.*',
      '$JS.API.CONSUMER.INFO.*.*',
      ...readerSubjects(Streams.DeadLetter.name),
    ]),
    subscribe: [`${inboxPrefixOf(OBSERVER)}.>`, ...Object.values(Streams).flatMap((s) => s.subjects)],
  };
}

/**
 * An operator: what an observer may do, and send dead letters back: publish on the subjects of the streams a
 * worker consumes (where every re-drivable letter came from) and delete DLQ messages. No stream or consumer
 * administration: that stays with the provisioner and administrators.
 */
export function operatorPermissions(): NatsPermissions {
  const observer = observerPermissions();
  const consumed = new Set(WORKER_ACCESS.flatMap((a) => (a.consume ?? []).map((c) => c.stream)));
  const origins = Object.values(Streams).filter((s) => consumed.has(s.name));
  return {
    publish: unique([
      ...observer.publish,
      ...origins.flatMap((s) => s.subjects),
      `$JS.API.STREAM.MSG.DELETE.${Streams.DeadLetter.name}`,
    ]),
    // its own inbox for redrive, the observer's for the read commands it runs too
    subscribe: unique([`${inboxPrefixOf(OPERATOR)}.>`, ...observer.subscribe]),
  };
}

/** A worker's entry, or undefined when the table has none. */
export function accessOf(worker: string): WorkerAccess | undefined {
  return WORKER_ACCESS.find((a) => a.worker === worker);
}

/** The subjects once each, less those another entry's wildcards already cover (a shorter list to audit). */
function unique(subjects: string[]): string[] {
  const once = [...new Set(subjects)];
  return once.filter((s) => !once.some((other) => other !== s && subjectCovers(other, s)));
}
