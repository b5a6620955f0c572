import { z } from 'zod';
import { RuntimeConfigSchema } from '@busway/runtime';

/** A list from the config file (an array) or from an env variable (comma separated, or a JSON array). */
const listOf = (item: z.ZodString) =>
  z.preprocess((raw, ctx) => {
    if (typeof raw !== 'string') return raw;
    const text = raw.trim();
    if (text.startsWith('[')) {
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `not a JSON array: ${(err as Error).message}` });
        return z.NEVER;
      }
    }
    return text === '' ? [] : text.split(',').map((s) => s.trim());
  }, z.array(item));

const boolOf = z.preprocess(
  (raw) => (typeof raw === 'string' ? !/^(false|0|no|off)$/i.test(raw.trim()) : raw),
  z.boolean(),
);

export const IngestOpenadrConfigSchema = RuntimeConfigSchema.extend({
  /** Base URL of the VTN's OpenADR 3.1 API, e.g. https://vtn.example.com/openadr3/3.1.0; unset: the worker idles. @default none */
  vtnUrl: z.url().optional(),
  /** Id of the VTN in the fabric: ce-source, the signals' source id and dedup ids. @default vtn */
  vtnId: z
    .string()
    .regex(/^[a-z0-9_-]+$/, 'lower-case letters, digits, _ and - only')
    .default('vtn'),
  /** OAuth2 client id the VTN's operator provisioned for this VEN. @default none */
  clientId: z.string().min(1).optional(),
  /** OAuth2 client secret; never logged. @default none */
  clientSecret: z.string().min(1).optional(),
  /** Token endpoint; unset: the one GET /auth/server advertises. @default from the VTN */
  tokenUrl: z.url().optional(),
  /** OAuth2 scope to ask for; unset: none (the VTN's default). @default none */
  scope: z.string().optional(),
  /** The VEN's name at the VTN: its ven object is found by it, or created. @default busway-ven */
  venName: z.string().min(1).max(128).default('busway-ven'),
  /** Targets the VEN names when it reads programs and events (3.1 target strings). @default [] */
  targets: listOf(z.string().min(1).max(128)).default([]),
  /** Subscribe for webhook callbacks; false: poll only. @default true */
  webhook: boolOf.default(true),
  /** TCP port of the callback listener; 0 picks a free one. @default 0 */
  callbackPort: z.coerce.number().int().min(0).max(65535).default(0),
  /** Address the callback listener binds to. @default 0.0.0.0 */
  callbackAddress: z.string().min(1).default('0.0.0.0'),
  /** URL the VTN calls back, as the VTN reaches it (behind a proxy: the public one). @default http://127.0.0.1:<port>/openadr/callback */
  callbackUrl: z.url().optional(),
  /** Bearer token the VTN must send on callbacks; unset: a random one per start. @default random */
  callbackToken: z.string().min(16).optional(),
  /** Full read of programs and events while no webhook has proven to work. @default 30000 */
  pollIntervalMs: z.coerce.number().int().min(100).default(30_000),
  /** Full read while the webhook works: catches a missed notification (and then falls back to polling). @default 300000 */
  resyncIntervalMs: z.coerce.number().int().min(100).default(300_000),
  /** A change the webhook has not brought this long after its modification time counts as missed. @default 30000 */
  callbackGraceMs: z.coerce.number().int().min(0).default(30_000),
  /** Shortest time between two subscription attempts while polling. @default 60000 */
  resubscribeIntervalMs: z.coerce.number().int().min(100).default(60_000),
  /** Longest wait for one VTN request. @default 10000 */
  requestTimeoutMs: z.coerce.number().int().min(100).default(10_000),
  /** Longest wait between retries while the VTN is unreachable. @default 60000 */
  maxBackoffMs: z.coerce.number().int().min(100).default(60_000),
  /** Objects per page when reading programs and events (the document allows at most 50). @default 50 */
  pageSize: z.coerce.number().int().min(1).max(50).default(50),
  /** Callbacks held while JetStream stores their signals; more are answered 503 so the VTN retries. @default 16 */
  maxPendingCallbacks: z.coerce.number().int().min(1).default(16),
  /** Longest wait for a PubAck before a callback is answered 503 (the VTN retries). @default 5000 */
  publishTimeoutMs: z.coerce.number().int().min(100).default(5000),
  /** JetStream KV bucket of the event revisions already published and the reports sent. @default openadr-ven */
  stateBucket: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/)
    .default('openadr-ven'),
  /** Answer reportDescriptors (USAGE in kWh, DEMAND in kW) with the facility's power. @default true */
  reports: boolOf.default(true),
  /** NORM subjects holding the facility meter points. @default [norm.v1.samples.<site>.>] */
  meterSubjects: listOf(z.string().min(1)).default([]),
  /** Assets whose metric is summed as the facility's power; empty: every asset on meterSubjects. @default [] */
  meterAssets: listOf(z.string().min(1)).default([]),
  /** The metric summed (canonical unit W). @default power.active */
  meterMetric: z.string().min(1).default('power.active'),
  /** Wait after an interval ends before its report is computed (the normalizer's lag). @default 5000 */
  reportDelayMs: z.coerce.number().int().min(0).default(5000),
  /** How far before an interval the meter is read, for the value in force at its start. @default 60000 */
  meterLookbackMs: z.coerce.number().int().min(0).default(60_000),
  /** resourceName of the reports. @default AGGREGATED_REPORT */
  reportResourceName: z.string().min(1).max(128).default('AGGREGATED_REPORT'),
});
export type IngestOpenadrConfig = z.output<typeof IngestOpenadrConfigSchema>;
