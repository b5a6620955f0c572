import { z } from 'zod';
import { RuntimeConfigSchema, fromJson } from '@busway/runtime';
import { POINT_TYPES } from './varbind.js';

/** A numeric OID, dotted; a leading dot (as snmpwalk prints it) is dropped. */
const OidSchema = z
  .string()
  .regex(/^\.?[0-2](\.\d+)+$/, 'a numeric OID such as 1.3.6.1.2.1.33.1.2.7.0')
  .transform((oid) => oid.replace(/^\./, ''));

/** One value of a target: where it is in the MIB, its unit, and the MIB's scaling. */
export const PointSchema = z.object({
  /** Name at the source; the point id is `snmp:<target id>:<name>`. */
  name: z.string().min(1),
  /** Instance OID to GET (a scalar ends in .0). */
  oid: OidSchema,
  /** Source unit string (V, A, W, degC, %); the normalizer maps it to UCUM. @default '' */
  unit: z.string().default(''),
  /** value = raw × scale: 0.1 for a MIB that reports tenths of amps. @default 1 */
  scale: z
    .number()
    .refine((s) => Number.isFinite(s) && s !== 0, 'a finite, non-zero number')
    .default(1),
  /** What the value is; a varbind that cannot be read as it is a decode error. @default from the varbind type */
  type: z.enum(POINT_TYPES).optional(),
});
export type PointConfig = z.output<typeof PointSchema>;

/** An SNMPv3 user at security level authPriv. */
export const UserSchema = z.object({
  name: z.string().min(1),
  authProtocol: z.enum(['sha', 'md5']).default('sha'),
  /** RFC 3414 asks for at least 8 characters. */
  authKey: z.string().min(8),
  privProtocol: z.enum(['aes', 'des']).default('aes'),
  privKey: z.string().min(8),
});
export type UserConfig = z.output<typeof UserSchema>;

const TargetCommon = {
  /** Stable id: the subject token raw.v1.samples.snmp.<id> and the point ids' middle part. */
  id: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(161),
  pollIntervalMs: z.number().int().min(100).default(5000),
  /** Wait for one answer before a retry. */
  timeoutMs: z.number().int().min(10).default(2000),
  /** Re-sends of a request that got no answer. */
  retries: z.number().int().min(0).max(10).default(1),
  /** Longest wait between polls while the target does not answer. */
  maxBackoffMs: z.number().int().min(100).default(30_000),
  points: z.array(PointSchema).min(1),
};

const V2cTargetSchema = z.object({
  ...TargetCommon,
  version: z.literal('v2c'),
  community: z.string().min(1).default('public'),
});

const V3TargetSchema = z.object({ ...TargetCommon, version: z.literal('v3'), user: UserSchema });

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** One SNMP agent (a UPS, a PDU, a CRAC) and the OIDs polled from it. */
export const TargetSchema = z
  .preprocess(
    (t) => (isRecord(t) && t.version === undefined ? { ...t, version: 'v2c' } : t),
    z.discriminatedUnion('version', [V2cTargetSchema, V3TargetSchema]),
  )
  .superRefine((t, ctx) => {
    for (const key of ['name', 'oid'] as const) {
      const seen = new Set<string>();
      for (const [i, p] of t.points.entries()) {
        if (seen.has(p[key]))
          ctx.addIssue({ code: 'custom', path: ['points', i, key], message: `duplicate ${key} '${p[key]}'` });
        seen.add(p[key]);
      }
    }
  });
export type TargetConfig = z.output<typeof TargetSchema>;

const TargetsSchema = z.array(TargetSchema).superRefine((targets, ctx) => {
  const seen = new Set<string>();
  for (const [i, t] of targets.entries()) {
    // subject tokens are lower case: UPS-1 and ups-1 would share a subject
    const key = t.id.toLowerCase();
    if (seen.has(key))
      ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate target id '${t.id}'` });
    seen.add(key);
  }
});

export const IngestSnmpConfigSchema = RuntimeConfigSchema.extend({
  /** Agents to poll: an array in the config file, a JSON array in BUSWAY_TARGETS. @default [] */
  targets: z.preprocess(fromJson('array of targets'), TargetsSchema).default([]),
  /** Most OIDs in one GET request; a target with more points sends several. @default 32 */
  maxOidsPerRequest: z.coerce.number().int().min(1).max(128).default(32),
  /** UDP port of the trap receiver; 0 turns it off (162 in production). @default 0 */
  trapPort: z.coerce.number().int().min(0).max(65535).default(0),
  /** Address the trap receiver binds to. @default 0.0.0.0 */
  trapAddress: z.string().min(1).default('0.0.0.0'),
  /** Community accepted on v1/v2c traps. @default public */
  trapCommunity: z.string().min(1).default('public'),
  /** SNMPv3 users (authPriv) accepted on v3 traps: an array, or a JSON array in BUSWAY_TRAP_USERS. @default [] */
  trapUsers: z.preprocess(fromJson('array of users'), z.array(UserSchema)).default([]),
  /** Traps held while JetStream is slow; more are dropped and counted. @default 1000 */
  maxPendingTraps: z.coerce.number().int().min(1).default(1000),
});
export type IngestSnmpConfig = z.output<typeof IngestSnmpConfigSchema>;
