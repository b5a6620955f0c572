import { z } from 'zod';
import {
  ConsumerConfigSchema,
  ControlTierConfigSchema,
  RuntimeConfigSchema,
  streamOfSubject,
  fromJson,
} from '@busway/runtime';

/** A NATS subject filter that lies within one fabric stream (`uns.v1.>`, `alarm.v1.ai1.>`). */
const SubjectFilterSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\.([A-Za-z0-9_-]+|\*))*(\.>)?$/, 'a NATS subject filter (tokens, * and a final >)')
  .refine((s) => streamOfSubject(s) !== undefined, {
    message: 'must lie within one stream (uns.v1.…, alarm.v1.…, incident.v1.…, control.v1.…, anomaly.v1.…)',
  });

/** An MQTT topic level or levels with no wildcard and no empty level. */
const TopicPart = z.string().regex(/^[^+#/]+(\/[^+#/]+)*$/, 'topic levels without +, # or empty levels');

/** How one set of subjects is republished to the broker. */
export const MappingSchema = z
  .object({
    /** Stable name: names its durable consumers (`egress-mqtt-<name>-…`) and its metrics. */
    name: z.string().regex(/^[a-z0-9_-]+$/, 'lower-case letters, digits, _ and - only'),
    /** Subjects republished; each has its own durable consumer. Subjects of one mapping must not overlap. */
    subjects: z.array(SubjectFilterSchema).min(1),
    /**
     * uns: `<prefix>/<site>/<hall>/<row>/<rack>/<class>/<asset>/<metric…>` with a JSON value (samples only);
     * dsx: `BMS/v1/<integration>/Value/<objectType>/<pointType>/<tagPath>` with the contract's value payload (samples only);
     * subject: `<prefix>/<subject tokens…>` with the message as a CloudEvent (any message);
     * template: `topic`, filled in, with `payload` (any message).
     */
    style: z.enum(['uns', 'dsx', 'subject', 'template']),
    /** Topic prefix of the uns and subject styles. @default busway */
    prefix: TopicPart.default('busway'),
    /** Template style: the topic, with {site} {hall} {row} {rack} {class} {asset} {metric} (samples), {subject} and {0}…{n} (subject tokens). */
    topic: z.string().min(1).optional(),
    /** Template style: `value` (a sample's JSON value) or `cloudevent`. @default cloudevent */
    payload: z.enum(['value', 'cloudevent']).default('cloudevent'),
    /** MQTT QoS: 1 waits for the broker's PUBACK before the JetStream ack. @default 1 */
    qos: z.union([z.literal(0), z.literal(1)]).default(1),
    /** Publish retained, so a new subscriber gets the last value at once. @default false */
    retain: z.boolean().default(false),
    /** DSX style: the integration id, the {integration} level of the topic. @default BUSWAY */
    integration: TopicPart.default('BUSWAY'),
    /** DSX style: the tagPath, with the template placeholders. @default {site}/{hall}/{row}/{rack}/{asset}/{metric} */
    tagPath: z.string().min(1).default('{site}/{hall}/{row}/{rack}/{asset}/{metric}'),
    /** DSX style: asset class → objectType, over the defaults (rack → Rack, cdu → CDU, pdu → PowerMeter, …). @default {} */
    objectTypes: z.record(z.string(), z.string()).default({}),
    /** DSX style: metric prefix (or `<ObjectType>:<prefix>`) → pointType, over the defaults. @default {} */
    pointTypes: z.record(z.string(), z.string()).default({}),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.style === 'template' && !m.topic)
      ctx.addIssue({
        code: 'custom',
        path: ['topic'],
        message: `mapping '${m.name}': the template style needs a topic`,
      });
    if ((m.style === 'uns' || m.style === 'dsx') && !m.subjects.every((s) => streamOfSubject(s) === 'UNS'))
      ctx.addIssue({
        code: 'custom',
        path: ['subjects'],
        message: `mapping '${m.name}': the ${m.style} style reads uns.v1 subjects only`,
      });
  });
export type MappingConfig = z.output<typeof MappingSchema>;

const MappingsSchema = z.array(MappingSchema).superRefine((mappings, ctx) => {
  const seen = new Set<string>();
  for (const [i, m] of mappings.entries()) {
    if (seen.has(m.name))
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate mapping '${m.name}'` });
    seen.add(m.name);
  }
});

export const EgressMqttConfigSchema = RuntimeConfigSchema.extend(ConsumerConfigSchema.shape)
  .extend(ControlTierConfigSchema.shape)
  .extend({
    /** Broker to republish to [MQTT_URL]. @default mqtt://127.0.0.1:1883 */
    mqttUrl: z.string().min(1).default('mqtt://127.0.0.1:1883'),
    /** Client id prefix; each tier connects as `<id>-control` / `<id>-analytics` [BUSWAY_MQTT_CLIENT_ID]. @default busway-egress-mqtt */
    mqttClientId: z.string().min(1).default('busway-egress-mqtt'),
    /** Broker user name [BUSWAY_MQTT_USERNAME]. @default none */
    mqttUsername: z.string().optional(),
    /** Broker password (from a Secret) [BUSWAY_MQTT_PASSWORD]. @default none */
    mqttPassword: z.string().optional(),
    /** MQTT protocol version: 5 or 4 (3.1.1) [BUSWAY_MQTT_PROTOCOL_VERSION]. @default 5 */
    mqttProtocolVersion: z.coerce
      .number()
      .pipe(z.union([z.literal(4), z.literal(5)]))
      .default(5),
    /** Longest wait for a PUBACK before the message is redelivered [BUSWAY_PUBLISH_TIMEOUT_MS]. @default 10000 */
    publishTimeoutMs: z.coerce.number().int().min(100).default(10_000),
    /** Mappings: an array in the config file, a JSON array in BUSWAY_MAPPINGS. @default [] */
    mappings: z.preprocess(fromJson('array of mappings'), MappingsSchema).default([]),
    /** Longest time analytics publishes wait while control publishes are in hand [BUSWAY_PRIORITY_WAIT_MS]. @default 1000 */
    priorityWaitMs: z.coerce.number().int().min(0).default(1000),
  });
export type EgressMqttConfig = z.output<typeof EgressMqttConfigSchema>;
