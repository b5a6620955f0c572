import { Redis } from 'ioredis';
import { RegistryClient } from '@busway/registry';
import type { RunningWorker, WorkerRuntime } from '@busway/runtime';
import { registerAlarmRoutes } from './alarms-route.js';
import { Authenticator, RateLimiter } from './auth.js';
import { registerCommandRoutes } from './command-routes.js';
import type { ApiConfig } from './config.js';
import { HistoryStore } from './history-store.js';
import { HashIndex, RedisKeys } from './redis-reads.js';
import { Rejections } from './rejections.js';
import { registerRoutes } from './routes.js';
import { buildServer } from './server.js';
import { SseHub } from './sse.js';

/** Starts the REST/SSE API on `apiPort`; stop() ends live streams, then closes the server and Redis. */
export async function startApi(rt: WorkerRuntime, config: ApiConfig): Promise<RunningWorker> {
  const log = rt.log;
  const redis = new Redis(config.redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false, // a request fails fast with 503 while Redis is down, never queues
    commandTimeout: 2000,
  });
  redis.on('error', () => undefined); // surfaced per request as 503
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000); // start anyway: history and assets need no value cache
    redis.once('ready', () => (clearTimeout(timer), resolve()));
  });
  const registry = await RegistryClient.connect(config.redisUrl, config.site);
  rt.metrics.reportRegistryVersion(() => registry.registry.version);
  const auth = new Authenticator(config.tokens);
  if (auth.size === 0) log.warn('no API tokens configured (tokens): every request will be refused with 401');
  const rejections = new Rejections(rt.metrics.registry, log.child({ component: 'api-access' }));
  const lastValues = new HashIndex(
    redis,
    RedisKeys.lastValueIndex,
    RedisKeys.lastValuePrefix,
    config.indexRefreshMs,
    log,
  );
  const anomalies = new HashIndex(
    redis,
    RedisKeys.anomalyIndex,
    RedisKeys.anomalyPrefix,
    config.indexRefreshMs,
    log,
  );
  lastValues.start();
  anomalies.start();
  const sse = new SseHub(
    rt.nc,
    {
      maxClients: config.sseMaxClients,
      heartbeatMs: config.sseHeartbeatMs,
      maxQueuedEvents: config.sseMaxQueuedEvents,
      slowClientMs: config.sseSlowClientMs,
    },
    rt.metrics.registry,
  );
  const app = buildServer({
    log,
    registry: rt.metrics.registry,
    auth,
    limiter: new RateLimiter(config.rateLimitPerS),
    rejections,
    bodyLimitBytes: config.bodyLimitBytes,
  });
  registerRoutes(app, {
    config,
    redis,
    registry,
    lastValues,
    anomalies,
    history: new HistoryStore(rt.js, rt.jsm, config.historyTimeoutMs),
    sse,
  });
  registerCommandRoutes(app, { js: rt.js, jsm: rt.jsm, nc: rt.nc, registry, log });
  registerAlarmRoutes(app, { config, redis });
  await app.listen({ port: config.apiPort, host: config.apiHost });
  const address = app.server.address();
  log.info(
    { apiPort: typeof address === 'object' && address ? address.port : config.apiPort },
    'REST API up',
  );
  return {
    async stop() {
      sse.closeAll();
      await app.close();
      lastValues.stop();
      anomalies.stop();
      rejections.close();
      await registry.close();
      redis.disconnect();
    },
  };
}
