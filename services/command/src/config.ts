import { z } from 'zod';
import { DeviceSchema } from '@busway/ingest-modbus';
import { ControlTierConfigSchema, RuntimeConfigSchema, fromJson } from '@busway/runtime';

/** An exact UNS subject of one point: uns.v1.<site>.<hall>.<row>.<rack>.<class>.<asset>.<metric…>. */
const UNS_SUBJECT = /^uns\.v1\.[a-z0-9_-]+(\.[a-z0-9_-]+){6,}$/;
const DAY_MS = 86_400_000;

/**
 * What may be written to one point. A point without a rule is never written (the default is read-only);
 * bounds and steps are in the metric's canonical unit (Cel, W, L/min, kPa, %, …).
 */
export const WriteRuleSchema = z
  .object({
    /** The point by its source id, `<protocol>:<source id>:<metric at source>`; give this or `path`. */
    point: z.string().min(3).optional(),
    /** The point by its UNS subject (`uns.v1.…`); give this or `point`. */
    path: z
      .string()
      .regex(UNS_SUBJECT, 'an exact UNS subject: uns.v1.<site>.<hall>.<row>.<rack>.<class>.<asset>.<metric…>')
      .optional(),
    /** `number`: a setpoint between min and max; `bool`: a switch. @default number */
    type: z.enum(['number', 'bool']).default('number'),
    /** Lowest value accepted, canonical unit (required for a number). */
    min: z.number().finite().optional(),
    /** Highest value accepted, canonical unit (required for a number). */
    max: z.number().finite().optional(),
    /** Largest change from the current value in one command, canonical unit. @default no limit */
    maxStep: z.number().positive().optional(),
    /** Shortest time between two accepted commands to this point. @default 10000 */
    minIntervalMs: z.number().int().min(0).default(10_000),
    /** API token names allowed to command this point. @default any token with the write scope */
    requesters: z.array(z.string().min(1)).min(1).optional(),
    /**
     * The point whose normalized value is the current value and confirms a command, by point id or UNS subject.
     * @default the point itself (a dsx-bms rule must name one: the integration's own value is no confirmation)
     */
    readback: z.string().min(3).optional(),
    /** A readback this close to the setpoint confirms it, canonical unit. @default 0.5 */
    tolerance: z.number().nonnegative().default(0.5),
    /** How long after sending the readback may take to reach the setpoint. @default 60000 */
    confirmTimeoutMs: z.number().int().min(100).default(60_000),
    /** A current value older than this (event time) is no current value: commands are refused. @default 300000 */
    maxValueAgeMs: z.number().int().min(100).default(300_000),
  })
  .strict()
  .superRefine((r, ctx) => {
    const name = r.point ?? r.path ?? '?';
    if ((r.point === undefined) === (r.path === undefined))
      ctx.addIssue({
        code: 'custom',
        message: `a rule names its point by exactly one of point or path (${name})`,
      });
    if (r.type === 'number') {
      if (r.min === undefined || r.max === undefined)
        ctx.addIssue({ code: 'custom', path: ['min'], message: `a number rule needs min and max (${name})` });
      else if (r.min > r.max)
        ctx.addIssue({
          code: 'custom',
          path: ['max'],
          message: `max ${r.max} is below min ${r.min} (${name})`,
        });
    } else if (r.min !== undefined || r.max !== undefined || r.maxStep !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: `a bool rule has no min, max or maxStep (${name})`,
      });
    if (r.point?.startsWith('dsx-bms:') && r.readback === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['readback'],
        message: `a dsx-bms rule needs readback: the BMS point that shows the setpoint took effect (${name})`,
      });
  });
export type WriteRule = z.output<typeof WriteRuleSchema>;

const RulesSchema = z.array(WriteRuleSchema).superRefine((rules, ctx) => {
  const seen = new Set<string>();
  for (const [i, r] of rules.entries()) {
    const key = r.point ?? r.path ?? '';
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i], message: `two rules for ${key}` });
    seen.add(key);
  }
});

export const CommandConfigSchema = RuntimeConfigSchema.extend(ControlTierConfigSchema.shape).extend({
  /** Redis with the registry and fan-out's last values [REDIS_URL]. @default redis://127.0.0.1:6379 */
  redisUrl: z.string().min(1).default('redis://127.0.0.1:6379'),
  /** Durable consumer of command requests on stream CONTROL [BUSWAY_DURABLE]. @default command */
  durable: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('command'),
  /** JetStream KV bucket with every command's record (statuses, delivery state) [BUSWAY_RECORD_BUCKET]. @default busway-commands */
  recordBucket: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('busway-commands'),
  /** How long command records are kept [BUSWAY_RECORD_TTL_MS]. @default 2592000000 (30 d) */
  recordTtlMs: z.coerce
    .number()
    .int()
    .min(60_000)
    .default(30 * DAY_MS),
  /** Writable points and their limits (JSON in env) [BUSWAY_RULES]. @default [] (nothing is writable) */
  rules: z.preprocess(fromJson('array of write rules'), RulesSchema).default([]),
  /** Where values are read back: `uns` (fan-out's per-point subjects) or `norm` (the normalizer's, earlier) [BUSWAY_READBACK_SOURCE]. @default uns */
  readbackSource: z.enum(['uns', 'norm']).default('uns'),
  /** Commands one requester may have accepted per minute, over every point [BUSWAY_REQUESTER_MAX_PER_MINUTE]. @default 30 */
  requesterMaxPerMinute: z.coerce.number().int().min(1).default(30),
  /** Longest expiry a command may ask for, from its request time [BUSWAY_MAX_TTL_MS]. @default 900000 (15 min) */
  maxTtlMs: z.coerce.number().int().min(1000).default(900_000),
  /** MQTT broker for DSX and Sparkplug delivery (credentials in the URL) [MQTT_URL]. @default none (no MQTT delivery) */
  mqttUrl: z.string().min(1).optional(),
  /** MQTT client id of the command worker: its own identity and ACL, apart from the bridges' [BUSWAY_MQTT_CLIENT_ID]. @default busway-command */
  mqttClientId: z.string().min(1).default('busway-command'),
  /** Topic root of the DSX Exchange BMS contract [BUSWAY_DSX_TOPIC_ROOT]. @default BMS/v1 */
  dsxTopicRoot: z.string().min(1).default('BMS/v1'),
  /** This integration's identifier: only points whose BMS metadata names it are written [BUSWAY_DSX_INTEGRATION]. @default none (no DSX delivery) */
  dsxIntegration: z
    .string()
    .regex(/^[^/+#\s]+$/, 'one MQTT topic level')
    .optional(),
  /** JetStream KV bucket where ingest-sparkplug keeps the births (names, aliases, datatypes) [BUSWAY_SPARKPLUG_BIRTH_BUCKET]. @default sparkplug-births */
  sparkplugBirthBucket: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('sparkplug-births'),
  /** Modbus devices written to, in ingest-modbus's device shape (JSON in env) [BUSWAY_MODBUS_DEVICES]. @default [] */
  modbusDevices: z.preprocess(fromJson('array of Modbus devices'), z.array(DeviceSchema)).default([]),
});
export type CommandConfig = z.output<typeof CommandConfigSchema>;
