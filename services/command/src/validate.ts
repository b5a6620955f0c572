import { type busway, msFromTimeNs } from '@busway/proto';
import { CommandRefused, RefusalCode } from './errors.js';
import type { Reading } from './point-watch.js';
import type { RateLimits } from './rate-limit.js';
import type { CompiledRule } from './rules.js';
import { commandToCanonical } from './units.js';

export const COMMAND_ID = /^[A-Za-z0-9_-]{8,64}$/;

/** What a command may be set to, from its value: a number or a switch position. */
export type CommandValue = number | boolean;

/** The value a command carries, or undefined when it carries none (or NaN, ±∞). */
export function valueOf(cmd: busway.v1.ICommand): CommandValue | undefined {
  if (cmd.boolValue != null) return cmd.boolValue;
  if (cmd.numberValue != null && Number.isFinite(cmd.numberValue)) return cmd.numberValue;
  return undefined;
}

const refuse = (code: RefusalCode, reason: string): never => {
  throw new CommandRefused(code, reason);
};

/** Checks what needs no rule: identity, value, requester, expiry. Throws CommandRefused (Malformed, Expired). */
export function checkCommand(cmd: busway.v1.ICommand, nowMs: number, maxTtlMs: number): void {
  if (!COMMAND_ID.test(cmd.commandId ?? ''))
    refuse(RefusalCode.Malformed, 'command_id must be 8 to 64 of [A-Za-z0-9_-]');
  if (!cmd.path?.startsWith('uns.v1.') && !cmd.pointId)
    refuse(RefusalCode.Malformed, 'the command names no point (path or point_id)');
  if (valueOf(cmd) === undefined) refuse(RefusalCode.Malformed, 'the command carries no finite value');
  if (!cmd.requestedBy) refuse(RefusalCode.Malformed, 'the command does not say who requested it');
  if (!cmd.reason) refuse(RefusalCode.Malformed, 'the command gives no reason (the audit trail needs one)');
  const expiresMs = msFromTimeNs(cmd.expiresTimeNs);
  const requestedMs = msFromTimeNs(cmd.requestedTimeNs);
  if (!(expiresMs > 0) || !(requestedMs > 0))
    refuse(RefusalCode.Malformed, 'the command needs its request time and an expiry');
  if (expiresMs - requestedMs > maxTtlMs)
    refuse(
      RefusalCode.Malformed,
      `the command expires ${expiresMs - requestedMs} ms after its request; at most ${maxTtlMs} ms`,
    );
  if (nowMs >= expiresMs)
    refuse(RefusalCode.Expired, `the command expired ${nowMs - expiresMs} ms before it could be delivered`);
}

/** The point's current value as the watch reports it: blind (why) or a trusted reading. */
export type Current = { blind: string } | { blind?: undefined; reading: Reading };

/**
 * Checks a command against its point's write rule, in this order: requester, type, unit, bounds, blindness,
 * step from the current value, rate. Returns the setpoint in the canonical unit; throws CommandRefused with the
 * first reason that forbids it.
 */
export function checkAgainstRule(
  cmd: busway.v1.ICommand,
  compiled: CompiledRule,
  current: Current,
  rates: RateLimits,
  nowMs: number,
): CommandValue {
  const { rule, target } = compiled;
  const requester = cmd.requestedBy ?? '';
  if (!(cmd.scopes ?? []).includes('write'))
    refuse(RefusalCode.NotAuthorized, `'${requester}' lacks the write scope`);
  if (rule.requesters && !rule.requesters.includes(requester))
    refuse(
      RefusalCode.NotAuthorized,
      `'${requester}' is not among the requesters allowed to command ${target.pointId}`,
    );
  const raw = valueOf(cmd) as CommandValue;
  let value: CommandValue;
  if (rule.type === 'bool') {
    if (typeof raw !== 'boolean')
      refuse(RefusalCode.WrongType, `${target.pointId} is a switch: the value must be true or false`);
    value = raw;
  } else {
    if (typeof raw !== 'number')
      refuse(RefusalCode.WrongType, `${target.pointId} takes a number, not a switch position`);
    value = commandToCanonical(raw as number, cmd.unit ?? '', target.metric);
    const min = rule.min as number;
    const max = rule.max as number;
    if (!(value >= min && value <= max))
      refuse(
        RefusalCode.OutOfBounds,
        `${value} is outside [${min}, ${max}] for ${target.metric} of ${target.pointId}`,
      );
  }
  if (current.blind !== undefined)
    refuse(RefusalCode.Blind, `the current value cannot be read, so no command is safe: ${current.blind}`);
  const reading = (current as { reading: Reading }).reading;
  if (rule.maxStep !== undefined && typeof value === 'number' && typeof reading.value === 'number') {
    const step = Math.abs(value - reading.value);
    if (step > rule.maxStep)
      refuse(
        RefusalCode.StepTooLarge,
        `${value} is ${step} away from the current ${reading.value}; the rule allows ${rule.maxStep} per command`,
      );
  }
  const limited = rates.check(target.pointId, rule.minIntervalMs, requester, nowMs);
  if (limited) refuse(RefusalCode.RateLimited, limited);
  return value;
}
