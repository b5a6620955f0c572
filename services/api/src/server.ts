import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from '@busway/runtime';
import { Authenticator, type Principal, type RateLimiter } from './auth.js';
import type { Scope } from './config.js';
import { ApiError, errorBody } from './errors.js';
import type { Rejections } from './rejections.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scope a route requires; routes without one are refused (every /v1 route declares one). */
    scope?: Scope;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface ServerDeps {
  log: Logger;
  registry: Registry;
  auth: Authenticator;
  limiter: RateLimiter;
  rejections: Rejections;
  bodyLimitBytes: number;
}

const pathOf = (req: FastifyRequest) => (req.url.split('?')[0] ?? '').slice(0, 200);

/** Codes for fastify's own 4xx errors (body too large, bad JSON, unsupported content type, ...). */
function frameworkCode(err: FastifyError): string {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'body-too-large';
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'unsupported-media-type';
  if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY')
    return 'bad-json';
  return 'bad-request';
}

/**
 * The HTTP server: bearer-token authentication and scope check on every route that declares a scope, a
 * per-client rate limit, one JSON error shape for every refusal, each refusal logged and counted.
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimitBytes,
    routerOptions: { maxParamLength: 256 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  const requests = new Counter({
    name: 'busway_api_requests_total',
    help: 'API requests answered, by route and HTTP status',
    labelNames: ['route', 'status'],
    registers: [deps.registry],
  });
  const duration = new Histogram({
    name: 'busway_api_request_duration_seconds',
    help: 'Time from request to response, by route',
    labelNames: ['route'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [deps.registry],
  });

  app.addHook('onRequest', async (req) => {
    const scope = req.routeOptions.config.scope;
    if (!scope) return;
    const principal = deps.auth.authenticate(req.headers.authorization);
    req.principal = principal;
    Authenticator.require(principal, scope);
    deps.limiter.take(principal.name);
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ route, status: String(reply.statusCode) });
    duration.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500)
      e = new ApiError(err.statusCode, frameworkCode(err), err.message);
    else {
      deps.log.error({ err, method: req.method, path: pathOf(req) }, 'request failed');
      e = new ApiError(500, 'internal', 'internal error; the API log has the details');
    }
    if (e.status < 500)
      deps.rejections.record({
        status: e.status,
        code: e.code,
        reason: e.message,
        method: req.method,
        path: pathOf(req),
        ip: req.ip,
        client: req.principal?.name,
      });
    return reply.code(e.status).headers(e.headers).send(errorBody(e));
  });

  app.setNotFoundHandler((req, reply) => {
    const e = new ApiError(404, 'no-route', `no route ${req.method} ${pathOf(req)}`);
    deps.rejections.record({
      status: 404,
      code: e.code,
      reason: e.message,
      method: req.method,
      path: pathOf(req),
      ip: req.ip,
    });
    return reply.code(404).send(errorBody(e));
  });
  return app;
}
