import { z } from 'zod';
import { resolveNodeId } from 'node-opcua';
import { RuntimeConfigSchema, fromJson } from '@busway/runtime';

function isNodeId(s: string): boolean {
  try {
    resolveNodeId(s);
    return true;
  } catch {
    return false;
  }
}

/** Report only changes larger than this: absolute in the value's unit, or percent of the node's EURange. */
export const DeadbandSchema = z
  .object({
    type: z.enum(['absolute', 'percent']),
    value: z.number().min(0),
  })
  .refine((d) => d.type === 'absolute' || d.value <= 100, {
    message: 'a percent deadband is 0 to 100',
    path: ['value'],
  });
export type DeadbandConfig = z.output<typeof DeadbandSchema>;

/** One node to monitor. */
export const ItemSchema = z.object({
  /** OPC UA node id, e.g. ns=2;s=CDU1.SupplyTemp or ns=3;i=1042. */
  nodeId: z.string().min(1).refine(isNodeId, 'not an OPC UA node id (e.g. ns=2;s=Name or ns=2;i=42)'),
  /** Name in the point id `opcua:<endpoint id>:<name>`. @default the node id, canonical (ns=0;i=2258) */
  name: z.string().min(1).optional(),
  /** How often the server samples the node. @default 500 */
  samplingIntervalMs: z.number().int().min(0).default(500),
  /** Values the server queues for the item between two publish responses. @default 10 */
  queueSize: z.number().int().min(1).max(10_000).default(10),
  deadband: DeadbandSchema.optional(),
  /** Unit when the node has no EngineeringUnits property. @default '' */
  unit: z.string().default(''),
});
export type ItemConfig = z.output<typeof ItemSchema>;

/** A node id as node-opcua prints it (i=2258 → ns=0;i=2258); unchanged when it is none. */
export function canonicalNodeId(nodeId: string): string {
  return isNodeId(nodeId) ? resolveNodeId(nodeId).toString() : nodeId;
}

/** The point id's last part: the configured name, else the canonical node id. */
export const pointNameOf = (item: { nodeId: string; name?: string | undefined }) =>
  item.name ?? canonicalNodeId(item.nodeId);

export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export const SECURITY_POLICIES = [
  'None',
  'Basic256Sha256',
  'Aes128_Sha256_RsaOaep',
  'Aes256_Sha256_RsaPss',
] as const;

/** One OPC UA server endpoint, its session settings and the nodes it is asked for. */
export const EndpointSchema = z
  .object({
    /** Stable id: the subject token raw.v1.samples.opcua.<id> and the point ids' middle part. */
    id: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'),
    url: z.string().regex(/^opc\.tcp:\/\/[^/\s]+/, 'an opc.tcp://host:port[/path] URL'),
    securityMode: z.enum(SECURITY_MODES).default('None'),
    securityPolicy: z.enum(SECURITY_POLICIES).default('None'),
    /** User name; without it the session is anonymous. */
    user: z.string().min(1).optional(),
    /** Never logged. */
    password: z.string().optional(),
    publishingIntervalMs: z.number().int().min(10).default(1000),
    /** Session timeout asked of the server; subscriptions live three times longer, so they can be transferred. */
    sessionTimeoutMs: z.number().int().min(1000).default(60_000),
    /** Longest wait between two connection attempts. */
    maxBackoffMs: z.number().int().min(100).default(30_000),
    items: z.array(ItemSchema).min(1),
  })
  .superRefine((e, ctx) => {
    if ((e.securityMode === 'None') !== (e.securityPolicy === 'None'))
      ctx.addIssue({
        code: 'custom',
        path: ['securityPolicy'],
        message: `endpoint '${e.id}': securityMode ${e.securityMode} needs ${e.securityMode === 'None' ? 'securityPolicy None' : 'a securityPolicy other than None'}`,
      });
    if (e.sessionTimeoutMs < 4 * e.publishingIntervalMs)
      ctx.addIssue({
        code: 'custom',
        path: ['sessionTimeoutMs'],
        message: `endpoint '${e.id}': at least 4 publishing intervals, so that keep-alives fit in the session timeout`,
      });
    if (e.password !== undefined && e.user === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['user'],
        message: `endpoint '${e.id}': a password needs a user`,
      });
    const names = new Set<string>();
    const nodes = new Set<string>();
    for (const [i, item] of e.items.entries()) {
      const name = pointNameOf(item);
      if (names.has(name))
        ctx.addIssue({ code: 'custom', path: ['items', i], message: `duplicate point '${name}'` });
      names.add(name);
      const node = canonicalNodeId(item.nodeId);
      if (nodes.has(node))
        ctx.addIssue({ code: 'custom', path: ['items', i, 'nodeId'], message: `node ${node} listed twice` });
      nodes.add(node);
    }
  });
export type EndpointConfig = z.output<typeof EndpointSchema>;

const EndpointsSchema = z.array(EndpointSchema).superRefine((endpoints, ctx) => {
  const seen = new Set<string>();
  for (const [i, e] of endpoints.entries()) {
    // subject tokens are lower case: CDU-1 and cdu-1 would share a subject
    const key = e.id.toLowerCase();
    if (seen.has(key))
      ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate endpoint id '${e.id}'` });
    seen.add(key);
  }
});

export const IngestOpcuaConfigSchema = RuntimeConfigSchema.extend({
  /** OPC UA endpoints: an array in the config file, a JSON array in BUSWAY_ENDPOINTS. @default [] */
  endpoints: z.preprocess(fromJson('array of endpoints'), EndpointsSchema).default([]),
  /** The client's PKI folder: its own certificate, trusted/ and rejected/ server certificates. @default pki */
  pkiDir: z.string().min(1).default('pki'),
  /** Trust a server certificate never seen before (else it lands in <pkiDir>/rejected). @default false */
  acceptUnknownCertificates: z.union([z.boolean(), z.stringbool()]).default(false),
  /** Bytes of batches each endpoint holds that JetStream has not acknowledged; past it the oldest are dropped. @default 8388608 (8 MiB) */
  maxBufferBytes: z.coerce
    .number()
    .int()
    .min(1)
    .default(8 * 2 ** 20),
});
export type IngestOpcuaConfig = z.output<typeof IngestOpcuaConfigSchema>;
