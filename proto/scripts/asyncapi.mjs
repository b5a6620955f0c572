// Writes asyncapi.yaml: the public subjects (below) with payload schemas derived from the .proto files, so
// the document and the protobuf contracts cannot drift. `--check` fails when the committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { stringify } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'asyncapi.yaml');

/** The protobuf messages the document publishes, by component name. */
const MESSAGES = {
  SampleBatch: 'busway.v1.SampleBatch',
  EventBatch: 'busway.v1.EventBatch',
  Incident: 'busway.v1.Incident',
  AnomalyBatch: 'busway.v1.AnomalyBatch',
  Rollup: 'busway.v1.Rollup',
  Command: 'busway.v1.Command',
  CommandStatus: 'busway.v1.CommandStatus',
  SparkplugPayload: 'org.eclipse.tahu.protobuf.Payload',
};

const SCALARS = {
  double: { type: 'number' },
  float: { type: 'number' },
  int32: { type: 'integer' },
  uint32: { type: 'integer', minimum: 0 },
  sint32: { type: 'integer' },
  fixed32: { type: 'integer', minimum: 0 },
  sfixed32: { type: 'integer' },
  // proto3 JSON mapping: 64-bit integers are decimal strings
  int64: { type: 'string', pattern: '^-?[0-9]+$' },
  sint64: { type: 'string', pattern: '^-?[0-9]+$' },
  sfixed64: { type: 'string', pattern: '^-?[0-9]+$' },
  uint64: { type: 'string', pattern: '^[0-9]+$' },
  fixed64: { type: 'string', pattern: '^[0-9]+$' },
  bool: { type: 'boolean' },
  string: { type: 'string' },
  bytes: { type: 'string', contentEncoding: 'base64' },
};

/** Component name of a protobuf type: its full name with dots as underscores. */
const componentOf = (type) => type.fullName.replace(/^\./, '').replace(/\./g, '_');

/** JSON Schemas (proto3 JSON mapping) of a message and of every message and enum it reaches. */
function schemasOf(rootNs, typeName, out = {}) {
  const type = rootNs.lookupType(typeName);
  const name = componentOf(type);
  if (out[name]) return out;
  const properties = {};
  out[name] = { type: 'object', 'x-protobuf-message': type.fullName.slice(1), properties };
  for (const field of type.fieldsArray) {
    field.resolve();
    let schema;
    if (field.resolvedType instanceof protobuf.Enum) {
      const e = field.resolvedType;
      const enumName = componentOf(e);
      out[enumName] ??= {
        type: 'string',
        'x-protobuf-enum': e.fullName.slice(1),
        enum: Object.keys(e.values),
      };
      schema = { $ref: `#/components/schemas/${enumName}` };
    } else if (field.resolvedType instanceof protobuf.Type) {
      schemasOf(rootNs, field.resolvedType.fullName.slice(1), out);
      schema = { $ref: `#/components/schemas/${componentOf(field.resolvedType)}` };
    } else {
      schema = { ...SCALARS[field.type] };
    }
    const described = field.comment ? { description: field.comment } : {};
    properties[field.name] = field.repeated
      ? { type: 'array', items: schema, 'x-protobuf-field': field.id, ...described }
      : schema.$ref
        ? { allOf: [schema], 'x-protobuf-field': field.id, ...described }
        : { ...schema, 'x-protobuf-field': field.id, ...described };
  }
  for (const oneof of type.oneofsArray) {
    // a proto3 `optional` field makes a synthetic oneof of its own: not a choice between fields
    if (oneof.fieldsArray.every((f) => f.options?.proto3_optional)) continue;
    out[name][`x-protobuf-oneof-${oneof.name}`] = oneof.fieldsArray.map((f) => f.name);
  }
  return out;
}

const param = (description, examples) => ({ description, ...(examples ? { examples } : {}) });
const P = {
  protocol: param('ingest protocol: sparkplug, dsx-bms, modbus, snmp, bacnet, opcua, redfish, ...', [
    'sparkplug',
  ]),
  source: param('source id as one subject token (e.g. the Sparkplug group and edge node)', [
    'ai1-h1-row-r1-gw',
  ]),
  site: param('site id', ['ai1']),
  hall: param('hall id, `_` when unknown', ['h1']),
  row: param('row id, `_` when not in a row', ['r1']),
  rack: param('rack id, or an area id for plant equipment outside racks', ['rack-r1-01', 'plant-r1']),
  assetClass: param(
    'asset class: cdu, pdu, node, gpu, sensor, busway, tap, ... (`unregistered` when the registry does not know the point)',
    ['cdu'],
  ),
  asset: param('asset id', ['cdu-r1']),
  metric: param(
    'taxonomy metric; its dots make it span several subject tokens, so subscribe with `>` after the asset',
    ['temperature.coolant.supply'],
  ),
  kind: param('event or incident kind', ['job']),
  period: param('rollup window: 1m or 1h', ['1m']),
  worker: param('worker that dead-lettered the message', ['normalizer']),
  group: param('Sparkplug group id', ['ai1-h1']),
  messageType: param('Sparkplug message type: NBIRTH, NDATA, NDEATH, DBIRTH, DDATA, DDEATH, NCMD, DCMD', [
    'DDATA',
  ]),
  edgeNode: param('Sparkplug edge node id', ['row-r1-gw']),
  device: param('Sparkplug device id', ['cdu-r1']),
  path: param(
    'UNS path of the target point without the uns.v1 prefix: site.hall.row.rack.class.asset.metric (several tokens)',
    ['ai1.h1.r1.plant-r1.cdu.cdu-r1.temperature.coolant.supply.setpoint'],
  ),
};

/** Every public channel: id, address, message, who sends it, and what it is for. */
const CHANNELS = [
  [
    'rawSamples',
    'raw.v1.samples.{protocol}.{source}',
    'SampleBatch',
    'ingest bridges',
    'Samples as the source sent them (source units, source time). Stream RAW.',
  ],
  [
    'rawEvents',
    'raw.v1.events.{source}',
    'EventBatch',
    'ingest bridges',
    'Discrete events as the source sent them (job lifecycle, grid signals, alarms). Stream RAW.',
  ],
  [
    'normSamples',
    'norm.v1.samples.{site}.{hall}.{row}.{rack}',
    'SampleBatch',
    'normalizer',
    'Samples with UNS path, taxonomy metric, canonical UCUM unit and UTC time, one subject per rack or area. Stream NORM.',
  ],
  [
    'normEvents',
    'norm.v1.events.{kind}',
    'EventBatch',
    'normalizer',
    'Events with racks resolved through the registry. Stream NORM.',
  ],
  [
    'orderedSamples',
    'ordered.v1.samples.{site}.{hall}.{row}.{rack}',
    'SampleBatch',
    'correlator',
    'Samples in event-time order per point, deduplicated. Stream ORDERED.',
  ],
  [
    'orderedEvents',
    'ordered.v1.events.{kind}',
    'EventBatch',
    'correlator',
    'Events in event-time order. Stream ORDERED.',
  ],
  [
    'incidents',
    'incident.v1.{site}.{kind}',
    'Incident',
    'correlator',
    'Correlated incidents (job -> power -> thermal chains, unexplained transients). Stream INCIDENTS.',
  ],
  [
    'anomalies',
    'anomaly.v1.{site}.{hall}.{row}.{rack}',
    'AnomalyBatch',
    'anomaly',
    'Anomaly scores of the samples of one rack or area. Stream ANOMALIES.',
  ],
  [
    'alarms',
    'alarm.v1.{site}.{hall}.{row}.{rack}',
    'EventBatch',
    'anomaly',
    'Anomaly alarms with hysteresis: one Event of kind ALARM when the score of a series reaches the alarm threshold (Alarm.active true) and one when it has stayed below the clear threshold for the hold time (active false); both carry the same alarm_id, the raising or clearing AnomalyScore and the peak score. Stream ALARMS (the control tier); fan-out keeps the active ones (REST GET /v1/alarms) and forwards each on events.v1.alarm.',
  ],
  [
    'audit',
    'audit.v1.{protocol}.{source}',
    'Original',
    'ingest bridges',
    'Source messages exactly as they arrived (any format; the MQTT topic in the mqtt-topic header), kept for an hour for audit and replay. Stream AUDIT.',
  ],
  [
    'sparkplugOriginal',
    'audit.v1.sparkplug.{group}.{edgeNode}',
    'SparkplugPayload',
    'ingest-sparkplug',
    'Every Sparkplug birth, data and death message of one edge node (its devices too), exactly as the host received it and in that order, the MQTT topic in the mqtt-topic header; sparkplug-decode reads them into raw.v1.samples.sparkplug. Stream AUDIT.',
  ],
  [
    'deadLetters',
    'dlq.v1.{worker}',
    'DeadLetter',
    'every worker',
    'Messages a worker could not process: the original payload and headers, with the reason in busway-dlq-* headers. Stream DLQ.',
  ],
  [
    'uns',
    'uns.v1.{site}.{hall}.{row}.{rack}.{assetClass}.{asset}.{metric}',
    'SampleBatch',
    'fanout',
    'The Unified Namespace: every sample of every point: one message per point and fan-out batch, holding the samples of that point in event-time order (usually one), only samples newer than its last value; stored in stream UNS (the normalized history, retention by configuration). Example: `uns.v1.ai1.*.*.*.cdu.>` is every CDU metric of site ai1.',
  ],
  [
    'rollups',
    'rollup.v1.{period}.{site}.{hall}.{row}.{rack}.{assetClass}.{asset}.{metric}',
    'Rollup',
    'history',
    'Min, max, sum and count of one point over a closed event-time window (1 minute or 1 hour), one message per point and window. Streams ROLLUP_1M and ROLLUP_1H.',
  ],
  [
    'incidentEvents',
    'events.v1.incident.{site}.{kind}',
    'Incident',
    'fanout',
    'Incidents for subscribers (core NATS).',
  ],
  [
    'alarmEvents',
    'events.v1.alarm.{site}.{hall}.{row}.{rack}',
    'EventBatch',
    'fanout',
    'Alarms for live subscribers (core NATS, at most once): each raise and clear from stream ALARMS, unchanged (one Event of kind ALARM per message, ce-id the event id), once fan-out has applied it to the active set; a raise that arrives after its own clear is not forwarded. Subscribers that must not miss one read stream ALARMS. Replaces events.v1.anomaly, which republished high anomaly scores without hysteresis or clears.',
  ],
  [
    'controlCommands',
    'control.v1.command.{path}',
    'Command',
    'api',
    "Supervisory write requests (setpoints), one per command, on the subject of the target point. The command worker validates each against the point's write rules (bounds, step, rate, requester), delivers it through the source's protocol or refuses it. Stream CONTROL (the control tier).",
  ],
  [
    'controlResults',
    'control.v1.result.{path}',
    'CommandStatus',
    'command',
    'Every step of every command (accepted, rejected with the reason, expired, sent, confirmed by the value read back, failed): the audit trail of supervisory write-back. Stream CONTROL (the control tier).',
  ],
  [
    'sparkplug',
    'spBv1.0/{group}/{messageType}/{edgeNode}/{device}',
    'SparkplugPayload',
    'edge nodes',
    'Sparkplug B 3.0 over MQTT, read by ingest-sparkplug (device level; node-level topics have no device token).',
  ],
];

const headers = {
  type: 'object',
  required: [
    'ce-id',
    'ce-type',
    'ce-source',
    'ce-time',
    'ce-specversion',
    'ce-datacontenttype',
    'Nats-Msg-Id',
  ],
  properties: {
    'ce-id': { type: 'string', description: 'CloudEvents id; stable for the same logical message' },
    'ce-type': {
      type: 'string',
      description: 'CloudEvents type: the protobuf message name, e.g. busway.v1.SampleBatch',
    },
    'ce-source': {
      type: 'string',
      description: 'CloudEvents source: URI of the emitter, e.g. /busway/normalizer',
    },
    'ce-time': { type: 'string', format: 'date-time', description: 'CloudEvents time, RFC 3339' },
    'ce-specversion': { type: 'string', const: '1.0' },
    'ce-datacontenttype': { type: 'string', const: 'application/protobuf' },
    traceparent: {
      type: 'string',
      pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
      description: 'W3C trace context',
    },
    tracestate: { type: 'string' },
    'Nats-Msg-Id': { type: 'string', description: 'JetStream deduplication id (equals ce-id)' },
  },
};
const deadLetterHeaders = {
  type: 'object',
  required: ['busway-dlq-reason', 'busway-dlq-code', 'busway-dlq-stage'],
  properties: {
    'busway-dlq-code': {
      type: 'string',
      description: 'reason code: decode-error, contract-violation, unit-mismatch, clock-skew, internal, ...',
    },
    'busway-dlq-reason': { type: 'string', description: 'human-readable reason' },
    'busway-dlq-stage': { type: 'string', description: 'worker that rejected the message' },
    'busway-dlq-subject': { type: 'string', description: 'subject (or MQTT topic) the message came on' },
    'busway-dlq-deliveries': { type: 'string', description: 'deliveries before it was given up' },
  },
  additionalProperties: true,
};

export function buildDocument() {
  const rootNs = new protobuf.Root();
  rootNs.resolvePath = (_origin, target) => join(root, target); // imports are relative to proto/
  rootNs.loadSync(
    ['busway/v1/events.proto', 'busway/v1/commands.proto', 'sparkplug/sparkplug_b.proto'],
    { alternateCommentMode: true }, // trailing `//` comments become descriptions
  );
  const schemas = {};
  for (const full of Object.values(MESSAGES)) schemasOf(rootNs, full, schemas);
  const messages = {};
  for (const [name, full] of Object.entries(MESSAGES)) {
    const sparkplug = name === 'SparkplugPayload';
    messages[name] = {
      name,
      contentType: 'application/protobuf',
      summary: `protobuf ${full}`,
      ...(sparkplug ? {} : { headers: { $ref: '#/components/schemas/FabricHeaders' } }),
      payload: { $ref: `#/components/schemas/${full.replace(/\./g, '_')}` },
    };
  }
  messages.Original = {
    name: 'Original',
    contentType: 'application/octet-stream',
    summary: 'a source message as it arrived',
    headers: { $ref: '#/components/schemas/FabricHeaders' },
    payload: { type: 'string', format: 'binary' },
  };
  messages.DeadLetter = {
    name: 'DeadLetter',
    contentType: 'application/octet-stream',
    summary: 'the rejected message as it arrived, its original headers kept, the reason added',
    headers: { $ref: '#/components/schemas/DeadLetterHeaders' },
    payload: { type: 'string', format: 'binary' },
  };
  const channels = {};
  const operations = {};
  for (const [id, address, message, sender, description] of CHANNELS) {
    const params = [...address.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    channels[id] = {
      address,
      description,
      ...(id === 'sparkplug'
        ? { servers: [{ $ref: '#/servers/mqtt' }] }
        : { servers: [{ $ref: '#/servers/nats' }] }),
      parameters: Object.fromEntries(params.map((p) => [p, P[p]])),
      messages: { [message]: { $ref: `#/components/messages/${message}` } },
    };
    const receive = id === 'sparkplug';
    operations[`${receive ? 'receive' : 'send'}${id[0].toUpperCase()}${id.slice(1)}`] = {
      action: receive ? 'receive' : 'send',
      summary: receive ? `Busway reads it (sent by ${sender})` : `sent by ${sender}`,
      channel: { $ref: `#/channels/${id}` },
    };
  }
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'Busway fabric',
      version: '1.0.0',
      description:
        'Public subjects of the Busway IT/OT telemetry fabric (contract busway.v1). Payloads are protobuf; ' +
        'the schemas below are their proto3 JSON mapping, generated from proto/*.proto by ' +
        'proto/scripts/asyncapi.mjs. Every fabric message carries CloudEvents binary-mode headers, a W3C ' +
        'traceparent and Nats-Msg-Id.',
      license: { name: 'Apache-2.0' },
    },
    servers: {
      nats: { host: '127.0.0.1:4222', protocol: 'nats', description: 'NATS with JetStream' },
      mqtt: {
        host: '127.0.0.1:1883',
        protocol: 'mqtt',
        description: 'MQTT broker of the edge (Sparkplug B)',
      },
    },
    channels,
    operations,
    components: {
      schemas: { FabricHeaders: headers, DeadLetterHeaders: deadLetterHeaders, ...schemas },
      messages,
    },
  };
}

export function render() {
  return `# Generated by proto/scripts/asyncapi.mjs from the .proto files: do not edit by hand.\n${stringify(buildDocument(), { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = render();
  if (process.argv.includes('--check')) {
    if (readFileSync(target, 'utf8') !== text) {
      process.stderr.write('proto/asyncapi.yaml is stale: run `npm run asyncapi -w @busway/proto`\n');
      process.exit(1);
    }
  } else writeFileSync(target, text);
}
