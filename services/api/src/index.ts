// The REST and Server-Sent Events API: current values, history, assets, incidents, anomalies, live stream.
import type { WorkerModule } from '@busway/runtime';
import { startApi } from './api.js';
import { ApiConfigSchema } from './config.js';

export { ApiConfigSchema, TokenSchema, Scopes } from './config.js';
export type { ApiConfig, Scope, TokenEntry } from './config.js';
export { startApi } from './api.js';
export { hashToken, Authenticator, RateLimiter } from './auth.js';
export type { Principal } from './auth.js';
export { ApiError } from './errors.js';
export { parseUnsPattern, subjectMatches } from './uns-pattern.js';
export type { UnsPattern } from './uns-pattern.js';
export { parseTime, parseHistoryQuery } from './time-range.js';
export type { HistoryQuery, Resolution } from './time-range.js';
export { SubjectTrie } from './subject-trie.js';

export const apiModule: WorkerModule<typeof ApiConfigSchema> = {
  name: 'api',
  stage: 'api',
  description:
    'REST API (values, history, assets, incidents, anomalies) and live SSE, bearer tokens with scopes',
  configSchema: ApiConfigSchema,
  consumers: () => [], // reads Redis, core NATS and JetStream by direct get and ordered consumers only
  start: startApi,
};
