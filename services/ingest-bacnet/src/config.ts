import { z } from 'zod';
import { RuntimeConfigSchema, fromJson } from '@busway/runtime';
import { OBJECT_TYPES } from './object-types.js';

export const BACNET_PORT = 47808;
/** 4194303 is the "any instance" wildcard, never a real object. */
const MAX_INSTANCE = 4_194_302;
const IPV4_PORT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?::(\d{1,5}))?$/;

/** One BACnet object of a device: its present value becomes the sample of point `bacnet:<device>:<type>:<instance>`. */
export const ObjectSchema = z.object({
  /** Object type by its ASHRAE 135 name. */
  type: z.enum(OBJECT_TYPES),
  instance: z.number().int().min(0).max(MAX_INSTANCE),
  /** What the object is, for people: shown in logs and dead letters (the point id keeps type:instance). */
  name: z.string().optional(),
  /** Subscribe to its changes (SubscribeCOV): they arrive between polls. @default false */
  cov: z.boolean().default(false),
  /** Ask for confirmed COV notifications, acknowledged only once JetStream has stored them. @default false */
  covConfirmed: z.boolean().default(false),
  /** Lifetime asked for each subscription, in seconds; renewed at half of it. @default 300 */
  covLifetimeS: z.number().int().min(1).max(86_400).default(300),
});
export type ObjectConfig = z.output<typeof ObjectSchema>;

/** `a.b.c.d[:port]` as `a.b.c.d:port`, the form the transport names peers by. */
function normalizeAddress(raw: string, ctx: z.RefinementCtx): string {
  const m = IPV4_PORT.exec(raw.trim());
  const octets = m?.slice(1, 5).map(Number) ?? [];
  const port = m?.[5] === undefined ? BACNET_PORT : Number(m[5]);
  if (!m || octets.some((o) => o > 255) || port < 1 || port > 65535) {
    ctx.addIssue({ code: 'custom', message: `'${raw}' is not an IPv4 address with an optional :port` });
    return z.NEVER;
  }
  return `${octets.join('.')}:${port}`;
}

/** One BACnet/IP device and the objects to read from it. */
export const DeviceSchema = z
  .object({
    /** Stable id: the subject token raw.v1.samples.bacnet.<id> and the point ids' middle part. @default the device instance */
    id: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
      .optional(),
    /** `ip[:port]` of the device. @default port 47808 */
    address: z.string().transform(normalizeAddress),
    /** The instance of its Device object: COV notifications must name it. */
    deviceInstance: z.number().int().min(0).max(MAX_INSTANCE),
    pollIntervalMs: z.number().int().min(100).default(5000),
    /** Per-request timeout. */
    timeoutMs: z.number().int().min(50).default(3000),
    /** Longest wait between polls while the device does not answer. */
    maxBackoffMs: z.number().int().min(100).default(60_000),
    /** Objects per ReadPropertyMultiple request (3 properties each). */
    objectsPerRequest: z.number().int().min(1).max(64).default(16),
    objects: z.array(ObjectSchema).min(1),
  })
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    for (const [i, o] of (d.objects ?? []).entries()) {
      if (!o) continue;
      const key = `${o.type}:${o.instance}`;
      if (seen.has(key))
        ctx.addIssue({ code: 'custom', path: ['objects', i], message: `duplicate object ${key}` });
      seen.add(key);
    }
  })
  .transform((d) => ({ ...d, id: d.id ?? String(d.deviceInstance) }));
export type DeviceConfig = z.output<typeof DeviceSchema>;

const DevicesSchema = z.array(DeviceSchema).superRefine((devices, ctx) => {
  const seen = new Set<string>();
  for (const [i, d] of devices.entries()) {
    // zod still refines the list when a device in it failed: that device has no id to compare
    if (typeof d?.id !== 'string') continue;
    // subject tokens are lower case: AHU-1 and ahu-1 would share a subject
    const key = d.id.toLowerCase();
    if (seen.has(key))
      ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate device id '${d.id}'` });
    seen.add(key);
  }
});

export const IngestBacnetConfigSchema = RuntimeConfigSchema.extend({
  /** Local UDP port: devices answer and send COV notifications to it; 0 picks a free one [BUSWAY_PORT]. @default 47808 */
  port: z.coerce.number().int().min(0).max(65535).default(BACNET_PORT),
  /** Local IPv4 address to bind [BUSWAY_BIND_ADDRESS]. @default 0.0.0.0 */
  bindAddress: z.string().min(1).default('0.0.0.0'),
  /** COV notifications held per device while JetStream is slow; past it the oldest are dropped [BUSWAY_COV_QUEUE_LIMIT]. @default 256 */
  covQueueLimit: z.coerce.number().int().min(1).default(256),
  /** Devices to read: an array in the config file, a JSON array in BUSWAY_DEVICES. @default [] */
  devices: z.preprocess(fromJson('array of devices'), DevicesSchema).default([]),
});
export type IngestBacnetConfig = z.output<typeof IngestBacnetConfigSchema>;
