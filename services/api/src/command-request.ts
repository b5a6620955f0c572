import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { timeNsFromMs, unsSubject, type busway } from '@busway/proto';
import type { SiteRegistry } from '@busway/registry';
import type { Principal } from './auth.js';
import { ApiError, badRequest } from './errors.js';
import { parseUnsPattern } from './uns-pattern.js';

/** Lifetime of a command that gives no ttlMs; and the longest it may ask for. */
export const DEFAULT_TTL_MS = 60_000;
export const MAX_TTL_MS = 900_000;

/** The body of POST /v1/commands. Unknown fields are refused: a typo never silently drops a limit. */
export const CommandBodySchema = z
  .object({
    /** The point by its UNS subject (exact, no wildcards); or pointId. */
    path: z.string().max(512).optional(),
    /** The point by its source id; or path. */
    pointId: z.string().min(3).max(512).optional(),
    /** The setpoint (a number) or a switch position (true/false). */
    value: z.union([z.number(), z.boolean()]),
    /** UCUM unit of a number; omitted: the metric's canonical unit. */
    unit: z.string().min(1).max(32).optional(),
    /** Why: kept in the audit trail. */
    reason: z.string().trim().min(1).max(500),
    /** The command is never delivered later than this after the request. @default 60000 */
    ttlMs: z.number().int().min(1000).max(MAX_TTL_MS).optional(),
    /** The same key from the same token gives the same command (a retried POST is not a second command). */
    idempotencyKey: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,128}$/, '1 to 128 of A-Z a-z 0-9 _ . : -')
      .optional(),
  })
  .strict();
export type CommandBody = z.infer<typeof CommandBodySchema>;

/** A validated request: the command to publish and the UNS subject of its point. */
export interface CommandRequest {
  command: busway.v1.ICommand;
  path: string;
}

/** The command id of a requester's idempotency key: the same pair always gives the same id. */
export function commandIdOf(requester: string, key: string): string {
  return `cmd-${createHash('sha256').update(`${requester}\n${key}`, 'utf8').digest('hex').slice(0, 32)}`;
}

/**
 * Reads POST /v1/commands: the body's shape, exactly one of path and pointId, the idempotency key (body or
 * `Idempotency-Key` header). A point id is resolved through the registry. Throws a 4xx ApiError with the reason:
 * such a request is never published, so it never reaches a device.
 */
export function parseCommandRequest(
  body: unknown,
  headerKey: string | string[] | undefined,
  principal: Principal,
  registry: SiteRegistry,
  nowMs: number,
): CommandRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('bad-command', 'the body must be a JSON object: {path|pointId, value, reason, …}');
  const parsed = CommandBodySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'body';
    throw badRequest('bad-command', `${where}: ${issue?.message ?? 'invalid'}`);
  }
  const b = parsed.data;
  if ((b.path === undefined) === (b.pointId === undefined))
    throw badRequest('bad-command', 'name the point by exactly one of path and pointId');
  if (Array.isArray(headerKey)) throw badRequest('bad-command', 'Idempotency-Key is given more than once');
  if (headerKey !== undefined && b.idempotencyKey !== undefined && headerKey !== b.idempotencyKey)
    throw badRequest('bad-command', 'the Idempotency-Key header and idempotencyKey differ');
  const key = b.idempotencyKey ?? headerKey;
  if (key !== undefined && !/^[A-Za-z0-9_.:-]{1,128}$/.test(key))
    throw badRequest('bad-command', 'Idempotency-Key: 1 to 128 of A-Z a-z 0-9 _ . : -');
  if (typeof b.value === 'boolean' && b.unit !== undefined)
    throw badRequest('bad-command', 'a switch position (true/false) has no unit');

  let path: string;
  let metric: string;
  if (b.path !== undefined) {
    const pattern = parseUnsPattern(b.path);
    if (!pattern.exact) throw badRequest('bad-path', 'a command names one point: no wildcards in path');
    path = pattern.subject;
    metric = path.split('.').slice(8).join('.');
  } else {
    const point = registry.point(b.pointId as string);
    const at = point && registry.pathOf(point.asset);
    if (!point || !at) throw new ApiError(404, 'unknown-point', `the registry knows no point ${b.pointId}`);
    metric = point.metric;
    path = unsSubject(at, metric);
  }
  const ttlMs = b.ttlMs ?? DEFAULT_TTL_MS;
  const { idempotencyKey: _ignored, ...request } = b;
  const command: busway.v1.ICommand = {
    commandId: commandIdOf(principal.name, key ?? randomUUID()),
    path,
    pointId: b.pointId ?? '',
    metric,
    ...(typeof b.value === 'boolean' ? { boolValue: b.value } : { numberValue: b.value }),
    unit: b.unit ?? '',
    requestedBy: principal.name,
    scopes: [...principal.scopes],
    reason: b.reason,
    requestedTimeNs: timeNsFromMs(nowMs),
    expiresTimeNs: timeNsFromMs(nowMs + ttlMs),
    idempotencyKey: key ?? '',
    requestHash: createHash('sha256')
      .update(JSON.stringify(request, Object.keys(request).sort()))
      .digest('hex'),
  };
  return { command, path };
}
