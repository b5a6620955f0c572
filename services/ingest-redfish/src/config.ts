import { z } from 'zod';
import { RuntimeConfigSchema, fromJson } from '@busway/runtime';

/** How an endpoint's metric reports reach the bridge. */
export const MODES = ['auto', 'sse', 'push', 'poll'] as const;
export type Mode = (typeof MODES)[number];

/** One Redfish service (a BMC, a rack manager) and how to read it. */
export const EndpointSchema = z
  .object({
    /** Stable id: the subject token raw.v1.samples.redfish.<id> and the point ids' middle part. */
    id: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'),
    /** Base URL of the service, e.g. https://10.0.7.21 (the bridge adds /redfish/v1). */
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), 'an http:// or https:// URL')
      .transform((u) => u.replace(/\/+$/, '').replace(/\/redfish\/v1$/i, '')),
    /** `session` (X-Auth-Token, re-login on 401, logout on stop), `basic`, or `none`. @default session */
    auth: z.enum(['session', 'basic', 'none']).default('session'),
    /** Account name; required unless auth is none. */
    username: z.string().optional(),
    /** Its password; never logged. */
    password: z.string().optional(),
    /** `auto`: SSE when the service has it, else push when the bridge listens (pushPort), else polling. @default auto */
    mode: z.enum(MODES).default('auto'),
    /** PEM file of the CA that signed the service's certificate (HTTPS). @default the system CAs */
    caFile: z.string().optional(),
    /** Accept any certificate (no verification): for labs only; logged as a warning at every start. @default false */
    insecureSkipVerify: z.boolean().default(false),
    /** Only these MetricReportDefinition ids (SSE `$filter`, push subscription, polling). @default all */
    reportDefinitions: z.array(z.string().min(1)).default([]),
    /** Poll period of the polling fallback. @default 10000 */
    pollIntervalMs: z.number().int().min(100).default(10_000),
    /** Chassis Power and Thermal are polled too: `auto` when the service has no TelemetryService. @default auto */
    pollChassis: z.enum(['auto', 'always', 'never']).default('auto'),
    /** Per-request timeout (and the SSE connect timeout). @default 5000 */
    timeoutMs: z.number().int().min(100).default(5000),
    /** Longest wait between reconnects or polls while the service fails. @default 60000 */
    maxBackoffMs: z.number().int().min(100).default(60_000),
    /** An SSE stream silent this long is reconnected (a BMC sends reports or keep-alives). @default 120000 */
    sseIdleTimeoutMs: z.number().int().min(500).default(120_000),
    /** Unit of a metric (by its bridge metric name) the service does not state; beats MetricDefinition Units. @default {} */
    units: z.record(z.string(), z.string()).default({}),
  })
  .superRefine((e, ctx) => {
    if (e.auth !== 'none' && (!e.username || e.password === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['username'],
        message: `auth ${e.auth} needs username and password`,
      });
  });
export type EndpointConfig = z.output<typeof EndpointSchema>;

const EndpointsSchema = z.array(EndpointSchema).superRefine((endpoints, ctx) => {
  const seen = new Set<string>();
  for (const [i, e] of endpoints.entries()) {
    if (typeof e?.id !== 'string') continue;
    const key = e.id.toLowerCase(); // subject tokens are lower case
    if (seen.has(key))
      ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate endpoint id '${e.id}'` });
    seen.add(key);
  }
});

export const IngestRedfishConfigSchema = RuntimeConfigSchema.extend({
  /** Redfish services to read: an array in the config file, a JSON array in BUSWAY_ENDPOINTS. @default [] */
  endpoints: z.preprocess(fromJson('array of endpoints'), EndpointsSchema).default([]),
  /** Port of the listener push subscriptions deliver to; 0: no listener, no push mode [BUSWAY_PUSH_PORT]. @default 0 */
  pushPort: z.coerce.number().int().min(0).max(65535).default(0),
  /** Address the listener binds to [BUSWAY_PUSH_ADDRESS]. @default 0.0.0.0 */
  pushAddress: z.string().min(1).default('0.0.0.0'),
  /** URL the services reach the listener by, e.g. https://busway-redfish.example:8443 [BUSWAY_PUSH_BASE_URL]. @default http://<pushAddress>:<pushPort> */
  pushBaseUrl: z.string().url().optional(),
  /** PEM certificate and key: the listener serves HTTPS [BUSWAY_PUSH_TLS_CERT_FILE, BUSWAY_PUSH_TLS_KEY_FILE]. @default none (HTTP) */
  pushTlsCertFile: z.string().optional(),
  pushTlsKeyFile: z.string().optional(),
  /** A pushed report JetStream has not stored within this gets 503, so the service retries it [BUSWAY_PUSH_ACK_TIMEOUT_MS]. @default 10000 */
  pushAckTimeoutMs: z.coerce.number().int().min(100).default(10_000),
  /** Per endpoint: report bytes held until JetStream stores them; past it SSE reading pauses and pushes get 503 [BUSWAY_MAX_BUFFER_BYTES]. @default 4194304 */
  maxBufferBytes: z.coerce
    .number()
    .int()
    .min(1024)
    .default(4 * 2 ** 20),
  /** Largest report (one SSE event, one push body, one GET) accepted [BUSWAY_MAX_REPORT_BYTES]. @default 4194304 */
  maxReportBytes: z.coerce
    .number()
    .int()
    .min(1024)
    .default(4 * 2 ** 20),
}).superRefine((c, ctx) => {
  if (Boolean(c.pushTlsCertFile) !== Boolean(c.pushTlsKeyFile))
    ctx.addIssue({
      code: 'custom',
      path: ['pushTlsCertFile'],
      message: 'pushTlsCertFile and pushTlsKeyFile go together',
    });
  for (const [i, e] of (c.endpoints ?? []).entries())
    if (e?.mode === 'push' && c.pushPort === 0)
      ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'mode'], message: 'mode push needs pushPort' });
});
export type IngestRedfishConfig = z.output<typeof IngestRedfishConfigSchema>;
