import { context } from '@opentelemetry/api';
import type { JetStreamClient } from '@nats-io/jetstream';
import { busway, EventTypes, Subjects, timeNsFromMs } from '@busway/proto';
import { publishFabric } from '@busway/runtime';
import type { Stored } from './command-store.js';

export const State = busway.v1.CommandState;
type StateValue = busway.v1.CommandState;

/** Verdicts and ends: no further step follows them. */
const FINAL = new Set<StateValue>([
  State.COMMAND_STATE_REJECTED,
  State.COMMAND_STATE_EXPIRED,
  State.COMMAND_STATE_CONFIRMED,
  State.COMMAND_STATE_FAILED,
]);

export const isFinal = (s: StateValue | null | undefined) => s != null && FINAL.has(s);

/** `accepted`, `rejected`, … : the name the API and the logs use. */
export function stateName(s: StateValue | null | undefined): string {
  return (busway.v1.CommandState[s ?? 0] ?? 'COMMAND_STATE_UNSPECIFIED')
    .replace('COMMAND_STATE_', '')
    .toLowerCase();
}

/** The last status of a record. */
export const lastState = (s: Stored) => s.record.statuses?.at(-1)?.state;

/** A status of `cmd` at `nowMs` with the fields every status repeats. */
export function statusOf(
  cmd: busway.v1.ICommand,
  state: StateValue,
  nowMs: number,
  fields: busway.v1.ICommandStatus = {},
): busway.v1.ICommandStatus {
  return {
    commandId: cmd.commandId,
    state,
    timeNs: timeNsFromMs(nowMs),
    path: cmd.path,
    pointId: cmd.pointId,
    requestedBy: cmd.requestedBy,
    ...fields,
  };
}

/**
 * Publishes the statuses of a record that are not on the CONTROL stream yet, in order, each under a
 * Nats-Msg-Id of its command and position: a retry after a crash stores each once. Returns how many are on it.
 */
export async function publishStatuses(js: JetStreamClient, stored: Stored): Promise<number> {
  const { record } = stored;
  const statuses = record.statuses ?? [];
  const path = record.command?.path ?? '';
  for (let i = record.published ?? 0; i < statuses.length; i++) {
    const s = statuses[i] as busway.v1.ICommandStatus;
    await publishFabric(
      js,
      Subjects.controlResult(path),
      busway.v1.CommandStatus.encode(s).finish(),
      {
        type: EventTypes.CommandStatus,
        source: '/busway/command',
        id: `cmd:${s.commandId}:${i}:${stateName(s.state)}`,
      },
      context.active(),
    );
  }
  return statuses.length;
}
