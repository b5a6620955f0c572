import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import { busway, EventTypes, rfc3339Nano, Subjects } from '@busway/proto';
import type { SiteRegistry } from '@busway/registry';
import { fabricHeaders, type Logger } from '@busway/runtime';
import { parseCommandRequest } from './command-request.js';
import { httpStatusOfRefusal, recordJson, stateName } from './command-view.js';
import { ApiError, badRequest } from './errors.js';

/** The command worker's record bucket (its `recordBucket`, default): the API reads command histories there. */
export const COMMAND_BUCKET = 'busway-commands';
/** How long POST /v1/commands waits for the command worker's verdict before answering 202 without one. */
export const VERDICT_TIMEOUT_MS = 5000;

const VERDICTS = new Set<busway.v1.CommandState>([
  busway.v1.CommandState.COMMAND_STATE_ACCEPTED,
  busway.v1.CommandState.COMMAND_STATE_REJECTED,
  busway.v1.CommandState.COMMAND_STATE_EXPIRED,
]);

export interface CommandRouteDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  nc: NatsConnection;
  registry: { readonly registry: SiteRegistry };
  log: Logger;
  verdictTimeoutMs?: number;
}

const ID = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * POST /v1/commands (write scope) and GET /v1/commands/<id> (read scope). A valid request is published to
 * stream CONTROL for the command worker, whose verdict (accepted, or rejected with the reason) is awaited and
 * answered: 202 with the id, or the 4xx of the refusal. The worker is the single judge of write rules, rates
 * and bounds; nothing the API refuses, and nothing the worker rejects, reaches a device.
 */
export function registerCommandRoutes(app: FastifyInstance, deps: CommandRouteDeps): void {
  const timeoutMs = deps.verdictTimeoutMs ?? VERDICT_TIMEOUT_MS;
  // a KV bucket is the stream KV_<bucket>, one subject per key: read the key's last message directly
  const record = async (id: string): Promise<busway.v1.CommandRecord | undefined> => {
    try {
      const m = await deps.jsm.streams.getMessage(`KV_${COMMAND_BUCKET}`, {
        last_by_subj: `$KV.${COMMAND_BUCKET}.${id}`,
      });
      if (!m || m.data.length === 0 || m.header?.get('KV-Operation')) return undefined; // none, deleted or purged
      return busway.v1.CommandRecord.decode(m.data);
    } catch (err) {
      if (/stream not found|no message found/i.test((err as Error).message)) return undefined; // no command yet
      throw new ApiError(
        503,
        'commands-unavailable',
        `command records unreadable: ${(err as Error).message}`,
        { 'retry-after': '1' },
      );
    }
  };

  app.post('/v1/commands', { config: { scope: 'write' as const } }, async (req, reply) => {
    const principal = req.principal;
    if (!principal) throw new ApiError(401, 'missing-token', 'no principal'); // the onRequest hook always sets it
    const { command, path } = parseCommandRequest(
      req.body,
      req.headers['idempotency-key'],
      principal,
      deps.registry.registry,
      Date.now(),
    );
    const id = command.commandId as string;
    const location = { location: `/v1/commands/${id}` };
    const known = await record(id);
    if (known) {
      if (known.command?.requestHash !== command.requestHash)
        throw new ApiError(
          409,
          'idempotency-key-reused',
          `idempotency key '${command.idempotencyKey}' was used for another command (${id})`,
          location,
        );
      return reply.code(200).headers(location).send(recordJson(known)); // a repeated request: the same command
    }
    const verdict = awaitVerdict(deps.nc, path, id, timeoutMs);
    try {
      await deps.js.publish(Subjects.controlCommand(path), busway.v1.Command.encode(command).finish(), {
        headers: fabricHeaders({ type: EventTypes.Command, source: '/busway/api', id: `cmd:${id}` }),
        msgID: `cmd:${id}`,
      });
    } catch (err) {
      verdict.cancel();
      throw new ApiError(
        503,
        'commands-unavailable',
        `the command could not be stored: ${(err as Error).message}`,
        { 'retry-after': '1' },
      );
    }
    const status = (await verdict.result) ?? (await record(id))?.statuses?.[0];
    if (!status)
      return reply
        .code(202)
        .headers(location)
        .send({
          id,
          state: 'requested',
          reason: `no verdict within ${timeoutMs} ms (is the command worker running?); it is never delivered after ${rfc3339Nano(command.expiresTimeNs)}`,
        });
    if (status.state === busway.v1.CommandState.COMMAND_STATE_ACCEPTED)
      return reply.code(202).headers(location).send({ id, state: 'accepted', path, pointId: status.pointId });
    const code = status.code || stateName(status.state);
    throw new ApiError(
      httpStatusOfRefusal(code),
      code,
      `command ${id} ${stateName(status.state)}: ${status.reason}`,
      code === 'rate-limited' || code === 'blind' ? { ...location, 'retry-after': '10' } : location,
    );
  });

  app.get('/v1/commands/:id', { config: { scope: 'read' as const } }, async (req) => {
    const { id } = req.params as { id: string };
    if (!ID.test(id)) throw badRequest('bad-command-id', 'a command id is 8 to 64 of A-Z a-z 0-9 _ -');
    if (Object.keys(req.query as object).length > 0)
      throw badRequest('unknown-parameter', 'this route takes no query parameters');
    const found = await record(id);
    if (!found)
      throw new ApiError(
        404,
        'unknown-command',
        `no command ${id} (never requested, or older than the records keep)`,
      );
    return recordJson(found);
  });
}

/** The first verdict on a command's result subject, or undefined after `timeoutMs`; subscribed at once. */
function awaitVerdict(
  nc: NatsConnection,
  path: string,
  id: string,
  timeoutMs: number,
): { result: Promise<busway.v1.CommandStatus | undefined>; cancel(): void } {
  const sub = nc.subscribe(Subjects.controlResult(path));
  const timer = setTimeout(() => sub.unsubscribe(), timeoutMs);
  const result = (async () => {
    for await (const m of sub) {
      let s: busway.v1.CommandStatus;
      try {
        s = busway.v1.CommandStatus.decode(m.data);
      } catch {
        continue; // not a status: someone else's message on the subject
      }
      if (s.commandId === id && VERDICTS.has(s.state)) {
        clearTimeout(timer);
        sub.unsubscribe();
        return s;
      }
    }
    return undefined;
  })();
  return {
    result,
    cancel: () => {
      clearTimeout(timer);
      sub.unsubscribe();
    },
  };
}
