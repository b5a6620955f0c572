import { randomUUID } from 'node:crypto';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { busway, EventTypes, Subjects, timeNsFromMs } from '@busway/proto';
import { fabricHeaders } from '@busway/runtime';
import { waitFor } from '@busway/testkit';
import { stateName } from './status.js';

// Helpers of the integration tests: commands published as the API publishes them, statuses read from CONTROL.

/** A command for the point at `path`, as POST /v1/commands builds it; ttl 60 s unless told. */
export function commandFor(
  path: string,
  value: number | boolean,
  over: Partial<busway.v1.ICommand> = {},
): busway.v1.ICommand {
  const now = Date.now();
  return {
    commandId: `cmd-${randomUUID().replace(/-/g, '')}`,
    path,
    ...(typeof value === 'boolean' ? { boolValue: value } : { numberValue: value }),
    requestedBy: 'optimizer',
    scopes: ['read', 'write'],
    reason: 'integration test',
    requestedTimeNs: timeNsFromMs(now),
    expiresTimeNs: timeNsFromMs(now + 60_000),
    ...over,
  };
}

/** Publishes a command request to stream CONTROL; `msgId` other than the API's simulates a late redelivery. */
export async function publishCommand(
  js: JetStreamClient,
  cmd: busway.v1.ICommand,
  msgId = `cmd:${cmd.commandId}`,
): Promise<void> {
  await js.publish(Subjects.controlCommand(cmd.path ?? ''), busway.v1.Command.encode(cmd).finish(), {
    headers: fabricHeaders({ type: EventTypes.Command, source: '/test', id: msgId }),
    msgID: msgId,
  });
}

/** Every status of a command on stream CONTROL, in stream order (the audit trail). */
export async function statusesOf(
  jsm: JetStreamManager,
  commandId: string,
): Promise<busway.v1.CommandStatus[]> {
  const info = await jsm.streams.info('CONTROL');
  const out: busway.v1.CommandStatus[] = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage('CONTROL', { seq }).catch(() => null);
    if (!m?.subject.startsWith('control.v1.result.')) continue;
    const s = busway.v1.CommandStatus.decode(m.data);
    if (s.commandId === commandId) out.push(s);
  }
  return out;
}

/** The state names of a command's statuses: ['accepted', 'sent', 'confirmed']. */
export async function statesOf(jsm: JetStreamManager, commandId: string): Promise<string[]> {
  return (await statusesOf(jsm, commandId)).map((s) => stateName(s.state));
}

/** Waits until the command's last status is `state`; returns every status. */
export async function waitForState(
  jsm: JetStreamManager,
  commandId: string,
  state: string,
  timeoutMs = 15_000,
): Promise<busway.v1.CommandStatus[]> {
  let last: busway.v1.CommandStatus[] = [];
  try {
    await waitFor(
      `command ${commandId} ${state}`,
      async () => {
        last = await statusesOf(jsm, commandId);
        return stateName(last.at(-1)?.state) === state;
      },
      timeoutMs,
    );
  } catch (err) {
    const seen = last
      .map((s) => `${stateName(s.state)}${s.code ? ` ${s.code}: ${s.reason}` : ''}`)
      .join(' → ');
    throw new Error(`${(err as Error).message}; its statuses: ${seen || 'none'}`);
  }
  return last;
}

/**
 * Waits until the command worker reads the point's current value: probes with a command whose step from that
 * value is too large, refused as blind until the value is read, then as a step too large. Nothing is delivered.
 */
export async function waitUntilSeen(
  js: JetStreamClient,
  jsm: JetStreamManager,
  path: string,
  farValue: number,
): Promise<void> {
  await waitFor(
    `the command worker reads ${path}`,
    async () => {
      const probe = commandFor(path, farValue, { reason: 'probe: refused, never delivered' });
      await publishCommand(js, probe);
      const [verdict] = await waitForState(jsm, probe.commandId as string, 'rejected', 5000);
      return verdict?.code === 'step-too-large';
    },
    15_000,
    200,
  );
}
