import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { StreamLimitsSchema } from './streams.js';

/** Settings every worker has. Env names in brackets; a config file may hold the same keys. */
export const RuntimeConfigSchema = z.object({
  /** NATS server URL(s), comma separated [NATS_URL]. @default nats://127.0.0.1:4222 */
  natsUrl: z.string().min(1).default('nats://127.0.0.1:4222'),
  /** Path to a NATS credentials file [NATS_CREDS]. @default none */
  natsCreds: z.string().optional(),
  /** NATS user name, for servers with user/password authorization [NATS_USER]. @default none */
  natsUser: z.string().min(1).optional(),
  /** NATS password of natsUser (from a Secret, never a config file in git) [NATS_PASSWORD]. @default none */
  natsPassword: z.string().optional(),
  /** CA certificate (PEM file) of the NATS server; setting it requires TLS [NATS_TLS_CA]. @default none (system CAs, TLS if the server offers it) */
  natsTlsCaFile: z.string().min(1).optional(),
  /** Client certificate (PEM file) for mutual TLS; needs natsTlsKeyFile [NATS_TLS_CERT]. @default none */
  natsTlsCertFile: z.string().min(1).optional(),
  /** Private key (PEM file) of natsTlsCertFile [NATS_TLS_KEY]. @default none */
  natsTlsKeyFile: z.string().min(1).optional(),
  /** Prefix of this worker's reply subjects: its NATS user may subscribe below it only [BUSWAY_NATS_INBOX_PREFIX]. @default _INBOX.<worker> */
  natsInboxPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'subject tokens without wildcards')
    .optional(),
  /** Create or update the streams and this worker's consumers at start; false where a provisioning job owns them [BUSWAY_PROVISION]. @default true */
  provision: z.union([z.boolean(), z.stringbool()]).default(true),
  /** Replicas of every fabric stream when provisioning: 3 on a production cluster, 1 on a single server [BUSWAY_STREAM_REPLICAS]. @default 1 */
  streamReplicas: z.coerce.number().int().min(1).max(5).default(1),
  /** Port of the /healthz, /readyz and /metrics server; 0 picks a free one [BUSWAY_HTTP_PORT]. @default 0 */
  httpPort: z.coerce.number().int().min(0).max(65535).default(0),
  /** Where to write the port the health server bound, once it listens: how a supervisor that asked for port 0 finds it [BUSWAY_HTTP_PORT_FILE]. @default none */
  httpPortFile: z.string().min(1).optional(),
  /** pino log level [BUSWAY_LOG_LEVEL]. @default info */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Site id used for points the registry does not know [BUSWAY_SITE]. @default site */
  site: z.string().min(1).default('site'),
  /** OTLP/HTTP traces endpoint, e.g. http://collector:4318 [OTEL_EXPORTER_OTLP_ENDPOINT]. @default none (no export) */
  otlpEndpoint: z.string().url().optional(),
  /**
   * Limits per stream by name, applied when a worker provisions: { UNS: { maxAgeMs: "14d", maxBytes: "50GiB" } }
   * [BUSWAY_STREAM_LIMITS, JSON]. Set it at the top level of the config file so every worker agrees.
   * @default {} (RAW 1 h, NORM and ORDERED 24 h, UNS 7 d, ROLLUP_1M 30 d, ROLLUP_1H 400 d, ...)
   */
  streamLimits: StreamLimitsSchema.default({}),
});
export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;

/** Settings of a consume loop: the explicit backpressure of a stage. */
export const ConsumerConfigSchema = z.object({
  /** Messages fetched per pull [BUSWAY_BATCH_SIZE]. @default 256 */
  batchSize: z.coerce.number().int().min(1).max(10_000).default(256),
  /** When set, pull by bytes instead of by message count: nats.js then asks for at most 100 messages per pull, and batches stay at most batchSize [BUSWAY_MAX_BYTES]. @default 0 (off) */
  maxBytes: z.coerce.number().int().min(0).default(0),
  /** Unacknowledged messages the server lets this consumer hold [BUSWAY_MAX_ACK_PENDING]. @default 4096 */
  maxAckPending: z.coerce.number().int().min(1).default(4096),
  /** Time the server waits for an ack before redelivering [BUSWAY_ACK_WAIT_MS]. @default 30000 */
  ackWaitMs: z.coerce.number().int().min(1000).default(30_000),
  /** Deliveries of one message before it goes to the dead-letter subject [BUSWAY_MAX_DELIVER]. @default 5 */
  maxDeliver: z.coerce.number().int().min(1).default(5),
  /** Lifetime of one pull request; a stopping worker waits at most this long for it [BUSWAY_FETCH_EXPIRES_MS]. @default 2000 */
  fetchExpiresMs: z.coerce.number().int().min(1000).default(2000),
  /** Delay before a message that failed transiently is redelivered [BUSWAY_NAK_DELAY_MS]. @default 2000 */
  nakDelayMs: z.coerce.number().int().min(0).default(2000),
});
export type ConsumerConfig = z.infer<typeof ConsumerConfigSchema>;

/** Env variables without the BUSWAY_ prefix, as operators know them. */
const WELL_KNOWN_ENV: Record<string, string> = {
  natsUrl: 'NATS_URL',
  natsCreds: 'NATS_CREDS',
  natsUser: 'NATS_USER',
  natsPassword: 'NATS_PASSWORD',
  natsTlsCaFile: 'NATS_TLS_CA',
  natsTlsCertFile: 'NATS_TLS_CERT',
  natsTlsKeyFile: 'NATS_TLS_KEY',
  redisUrl: 'REDIS_URL',
  mqttUrl: 'MQTT_URL',
  otlpEndpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
};

/** The env variable of a config key: natsUrl -> NATS_URL, batchSize -> BUSWAY_BATCH_SIZE. */
export function envNameOf(key: string): string {
  return WELL_KNOWN_ENV[key] ?? `BUSWAY_${key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

export interface LoadConfigOptions {
  /** Environment to read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Config file (JSON or YAML); its top level and its `workers.<worker>` section apply. @default $BUSWAY_CONFIG */
  file?: string;
  /** Worker name: selects the file's `workers.<worker>` section. */
  worker?: string;
  /** Values that win over everything else (e.g. CLI flags). */
  overrides?: Record<string, unknown>;
}

/** Parses the config once at startup: file < env < overrides. Fails fast naming the key and the expected form. */
export function loadConfig<S extends z.ZodObject>(schema: S, opts: LoadConfigOptions = {}): z.infer<S> {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.BUSWAY_CONFIG;
  const fromFile = file ? readConfigFile(file, opts.worker) : {};
  const fromEnv: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[envNameOf(key)];
    if (value !== undefined && value !== '') fromEnv[key] = value;
  }
  const result = schema.safeParse({ ...fromFile, ...fromEnv, ...opts.overrides });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.join('.');
    return `${key} (env ${envNameOf(String(issue.path[0] ?? key))}): ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration${file ? ` (file ${file})` : ''}: ${problems.join('; ')}`);
}

/**
 * Keys of the config file's `workers.<worker>` section that the worker's schema does not know, which
 * `loadConfig` drops: a typo, or a key that moved to another worker. The file's top level is left out: its keys
 * are shared by workers that each read only some of them.
 */
export function unknownWorkerKeys(schema: z.ZodObject, opts: LoadConfigOptions = {}): string[] {
  const file = opts.file ?? (opts.env ?? process.env).BUSWAY_CONFIG;
  if (!file || !opts.worker) return [];
  return Object.keys(workerSection(readConfigDoc(file), opts.worker)).filter((k) => !(k in schema.shape));
}

function readConfigFile(path: string, worker?: string): Record<string, unknown> {
  const doc = readConfigDoc(path);
  const common = { ...doc };
  delete common.workers; // only this worker's own section applies
  return { ...common, ...(worker ? workerSection(doc, worker) : {}) };
}

/** The file's `workers.<worker>` section, or nothing. */
function workerSection(doc: Record<string, unknown>, worker: string): Record<string, unknown> {
  const workers = doc.workers;
  const section = workers && typeof workers === 'object' ? (workers as Record<string, unknown>)[worker] : {};
  return section && typeof section === 'object' ? (section as Record<string, unknown>) : {};
}

function readConfigDoc(path: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8')); // YAML is a superset of JSON
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (doc == null) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`config file ${path}: expected a mapping of keys at the top level`);
  }
  return doc as Record<string, unknown>;
}
