import { z } from 'zod';
import { RuntimeConfigSchema, fromJson } from '@busway/runtime';

/** Scopes a token can carry: `read` for every GET, `write` for commands (POST /v1/commands). */
export const Scopes = ['read', 'write'] as const;
export type Scope = (typeof Scopes)[number];

/** One API client: who it is (for the logs), the SHA-256 of its bearer token, and what it may do. */
export const TokenSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'letters, digits, _ . @ - (1 to 64)'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'lower-case hex SHA-256 of the token (never the token itself)'),
    scopes: z.array(z.enum(Scopes)).min(1),
  })
  .strict();
export type TokenEntry = z.infer<typeof TokenSchema>;

const DAY_MS = 86_400_000;

export const ApiConfigSchema = RuntimeConfigSchema.extend({
  /** Redis with the last values, incidents, anomaly scores and the registry [REDIS_URL]. @default redis://127.0.0.1:6379 */
  redisUrl: z.string().min(1).default('redis://127.0.0.1:6379'),
  /** Port of the REST API (health and metrics stay on httpPort) [BUSWAY_API_PORT]. @default 8080 */
  apiPort: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Address the REST API binds to [BUSWAY_API_HOST]. @default 0.0.0.0 */
  apiHost: z.string().min(1).default('0.0.0.0'),
  /** API clients: [{ name, sha256, scopes }] (JSON in env) [BUSWAY_TOKENS]. @default [] (every request is refused) */
  tokens: z
    .preprocess(fromJson('array of tokens'), z.array(TokenSchema))
    .default([])
    .refine((t) => new Set(t.map((e) => e.sha256)).size === t.length, 'two tokens with the same sha256'),
  /** Requests per second per token, with bursts of as many; beyond it 429 [BUSWAY_RATE_LIMIT_PER_S]. @default 2000 */
  rateLimitPerS: z.coerce.number().int().min(1).default(2000),
  /** Most points one history response holds; beyond it 400 [BUSWAY_MAX_POINTS]. @default 10000 */
  maxPoints: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** Most values (points matched by a pattern) one /v1/values or /v1/anomalies response holds [BUSWAY_MAX_VALUES]. @default 5000 */
  maxValues: z.coerce.number().int().min(1).max(100_000).default(5000),
  /** Longest history range accepted [BUSWAY_MAX_RANGE_MS]. @default 34560000000 (400 d) */
  maxRangeMs: z.coerce
    .number()
    .int()
    .min(60_000)
    .default(400 * DAY_MS),
  /** resolution=auto reads raw values for ranges up to this; longer ones read rollups [BUSWAY_RAW_MAX_RANGE_MS]. @default 7200000 (2 h) */
  rawMaxRangeMs: z.coerce
    .number()
    .int()
    .min(1000)
    .default(2 * 3_600_000),
  /** A history read taking longer is abandoned with 503 [BUSWAY_HISTORY_TIMEOUT_MS]. @default 10000 */
  historyTimeoutMs: z.coerce.number().int().min(100).default(10_000),
  /** Largest request body; beyond it 413 [BUSWAY_BODY_LIMIT_BYTES]. @default 65536 */
  bodyLimitBytes: z.coerce.number().int().min(1024).default(65_536),
  /** How often the index of points with a last value is re-read for pattern queries [BUSWAY_INDEX_REFRESH_MS]. @default 5000 */
  indexRefreshMs: z.coerce.number().int().min(100).default(5000),
  /** Live streams open at once; beyond it 429 [BUSWAY_SSE_MAX_CLIENTS]. @default 100 */
  sseMaxClients: z.coerce.number().int().min(1).default(100),
  /** Comment line sent on an idle live stream so proxies keep it open [BUSWAY_SSE_HEARTBEAT_MS]. @default 15000 */
  sseHeartbeatMs: z.coerce.number().int().min(100).default(15_000),
  /** Events held for a client that reads slower than they come; beyond it new ones are dropped and counted [BUSWAY_SSE_MAX_QUEUED_EVENTS]. @default 1000 */
  sseMaxQueuedEvents: z.coerce.number().int().min(1).default(1000),
  /** A client whose queue stays full this long is disconnected [BUSWAY_SSE_SLOW_CLIENT_MS]. @default 10000 */
  sseSlowClientMs: z.coerce.number().int().min(100).default(10_000),
});
export type ApiConfig = z.infer<typeof ApiConfigSchema>;
