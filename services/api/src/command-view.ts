import { busway, rfc3339Nano } from '@busway/proto';

/** `accepted`, `rejected`, `sent`, `confirmed`, `failed`, `expired`. */
export function stateName(s: busway.v1.CommandState | null | undefined): string {
  return (busway.v1.CommandState[s ?? 0] ?? 'COMMAND_STATE_UNSPECIFIED')
    .replace('COMMAND_STATE_', '')
    .toLowerCase();
}

/** The HTTP status of a refused command, by the command worker's reason code (unknown codes: 422). */
const STATUS_OF_CODE: Record<string, number> = {
  malformed: 400,
  expired: 422,
  'not-writable': 403,
  'not-authorized': 403,
  'unknown-point': 404,
  'wrong-type': 422,
  'unit-mismatch': 422,
  'out-of-bounds': 422,
  'step-too-large': 422,
  'not-representable': 422,
  'rate-limited': 429,
  'not-deliverable': 409,
  blind: 503,
  'delivery-unavailable': 503,
};

export const httpStatusOfRefusal = (code: string): number => STATUS_OF_CODE[code] ?? 422;

const nonEmpty = (s: string | null | undefined) => (s ? s : undefined);
const time = (ns: busway.v1.ICommandStatus['timeNs']) =>
  ns && ns.toString() !== '0' ? rfc3339Nano(ns) : undefined;

/** One status as JSON: only the fields it has. */
export function statusJson(s: busway.v1.ICommandStatus): Record<string, unknown> {
  return {
    state: stateName(s.state),
    time: time(s.timeNs),
    code: nonEmpty(s.code),
    reason: nonEmpty(s.reason),
    value: s.value ?? s.boolValue ?? undefined,
    unit: nonEmpty(s.unit),
    protocol: nonEmpty(s.protocol),
    address: nonEmpty(s.address),
    sourceValue: s.sourceValue ?? undefined,
    sourceUnit: nonEmpty(s.sourceUnit),
    readbackPointId: nonEmpty(s.readbackPointId),
    observedValue: s.observedValue ?? undefined,
    observedAt: time(s.observedTimeNs),
  };
}

/** A command and its status history, as GET /v1/commands/<id> answers. */
export function recordJson(r: busway.v1.ICommandRecord): Record<string, unknown> {
  const c = r.command ?? {};
  const statuses = r.statuses ?? [];
  return {
    id: c.commandId,
    state: stateName(statuses.at(-1)?.state),
    path: c.path,
    pointId: nonEmpty(c.pointId) ?? nonEmpty(statuses.find((s) => s.pointId)?.pointId),
    metric: nonEmpty(c.metric),
    value: c.numberValue ?? c.boolValue ?? undefined,
    unit: nonEmpty(c.unit),
    requestedBy: c.requestedBy,
    reason: c.reason,
    requestedAt: time(c.requestedTimeNs),
    expiresAt: time(c.expiresTimeNs),
    idempotencyKey: nonEmpty(c.idempotencyKey),
    statuses: statuses.map(statusJson),
  };
}
