import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Counter } from 'prom-client';
import { busway, canonicalUnitOf, EventTypes, msFromTimeNs, timeNsFromMs } from '@busway/proto';
import { ACK, readEnvelope, type Logger, type Outcome } from '@busway/runtime';
import type { Adapter, DeliveryPlan } from './adapters/types.js';
import type { CommandStore, Stored } from './command-store.js';
import type { CommandConfig } from './config.js';
import { Confirmations, type ConfirmOutcome, type Pending } from './confirmations.js';
import { CommandRefused, DeliveryError, RefusalCode } from './errors.js';
import type { PointWatch } from './point-watch.js';
import type { RateLimits } from './rate-limit.js';
import type { CompiledRule, RuleBook } from './rules.js';
import { isFinal, lastState, publishStatuses, State, stateName, statusOf } from './status.js';
import { checkAgainstRule, checkCommand, COMMAND_ID, type CommandValue, type Current } from './validate.js';

const COMMAND_PREFIX = 'control.v1.command.';
/** Bounds are exact in the rule; rounding to what the source holds may move a value by float noise only. */
const BOUND_SLACK = 1e-9;

export interface ProcessorDeps {
  js: JetStreamClient;
  store: CommandStore;
  watch: PointWatch;
  adapters: ReadonlyMap<string, Adapter>;
  rates: RateLimits;
  config: Pick<CommandConfig, 'maxTtlMs'>;
  log: Logger;
  /** busway_commands_total{state,code} */
  counter: Counter<'state' | 'code'>;
}

/** A command checked and planned: what delivering it takes. */
interface Prepared {
  compiled: CompiledRule;
  value: CommandValue;
  plan: DeliveryPlan;
}

/**
 * The command path: validate against the write rule, record the verdict before anything else (the record is
 * the worker's memory: a command id is acted on once, whatever the redeliveries), deliver through the
 * protocol's adapter, then track the readback until it confirms the setpoint or the deadline passes. Every step
 * becomes a CommandStatus on the CONTROL stream.
 */
export class CommandProcessor {
  private readonly confirmations: Confirmations;

  constructor(
    private readonly deps: ProcessorDeps,
    public rules: RuleBook,
  ) {
    this.confirmations = new Confirmations((p, o) => void this.settle(p, o));
    deps.watch.onReading((pointId, r) => this.confirmations.offer(pointId, r));
  }

  get pendingConfirmations(): number {
    return this.confirmations.size;
  }

  /** One fetched batch, in order (rate limits depend on it); a transient failure retries its message only. */
  async handleBatch(batch: JsMsg[]): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const msg of batch) {
      try {
        out.push(await this.handle(msg));
      } catch (err) {
        this.deps.log.warn(
          { err: (err as Error).message, subject: msg.subject },
          'command not processed; retrying',
        );
        out.push({ kind: 'retry', code: 'transient', message: (err as Error).message });
      }
    }
    return out;
  }

  async handle(msg: JsMsg): Promise<Outcome> {
    const env = readEnvelope(msg.headers);
    if (env.type !== EventTypes.Command)
      return {
        kind: 'poison',
        code: 'contract-violation',
        message: `expected ${EventTypes.Command}, got '${env.type}'`,
      };
    let cmd: busway.v1.Command;
    try {
      cmd = busway.v1.Command.decode(msg.data);
    } catch (err) {
      return { kind: 'poison', code: 'decode-error', message: (err as Error).message };
    }
    if (!COMMAND_ID.test(cmd.commandId))
      return {
        kind: 'poison',
        code: 'contract-violation',
        message: 'command_id must be 8 to 64 of [A-Za-z0-9_-]',
      };
    const subjectPath = `uns.v1.${msg.subject.slice(COMMAND_PREFIX.length)}`;
    const pathMismatch = cmd.path !== '' && cmd.path !== subjectPath;
    cmd.path = subjectPath; // statuses go where the request came from

    const existing = await this.deps.store.get(cmd.commandId);
    if (existing) {
      this.deps.log.info(
        { command: cmd.commandId },
        'command seen before (redelivery or a repeated request): not acted on again',
      );
      await this.resume(existing);
      return ACK;
    }
    const nowMs = Date.now();
    let prepared: Prepared | undefined;
    let first: busway.v1.ICommandStatus;
    try {
      if (pathMismatch)
        throw new CommandRefused(
          RefusalCode.Malformed,
          `the command's path is not the subject it came on (${subjectPath})`,
        );
      checkCommand(cmd, nowMs, this.deps.config.maxTtlMs);
      prepared = await this.prepare(cmd, nowMs, true);
      const { compiled, value } = prepared;
      first = statusOf(cmd, State.COMMAND_STATE_ACCEPTED, nowMs, {
        pointId: compiled.target.pointId,
        readbackPointId: compiled.readback.pointId,
        ...valueFields(value, compiled.target.metric),
      });
    } catch (err) {
      if (!(err instanceof CommandRefused)) throw err;
      prepared = undefined;
      const state =
        err.code === RefusalCode.Expired ? State.COMMAND_STATE_EXPIRED : State.COMMAND_STATE_REJECTED;
      first = statusOf(cmd, state, nowMs, { code: err.code, reason: err.message });
    }
    const created = await this.deps.store.create(cmd.commandId, {
      command: cmd,
      statuses: [first],
      published: 0,
    });
    if (!created) return ACK; // another delivery of it recorded a verdict first
    this.count(first);
    if (prepared) this.deps.rates.record(prepared.compiled.target.pointId, cmd.requestedBy, nowMs);
    const stored = await this.publish(created);
    if (prepared) await this.deliver(stored, prepared);
    return ACK;
  }

  /** Validates against the rule, the current value and (when asked) the rates, then plans the delivery. */
  private async prepare(cmd: busway.v1.ICommand, nowMs: number, checkRates: boolean): Promise<Prepared> {
    const compiled = this.rules.find({ path: cmd.path ?? '', pointId: cmd.pointId ?? '' });
    const { rule, readback, target } = compiled;
    const blind = await this.deps.watch.blindness(readback, rule.maxValueAgeMs, nowMs);
    const reading = blind === undefined ? await this.deps.watch.current(readback) : undefined;
    const current: Current = blind !== undefined || !reading ? { blind: blind ?? 'no value' } : { reading };
    const rates = checkRates ? this.deps.rates : { check: () => undefined };
    const value = checkAgainstRule(cmd, compiled, current, rates as RateLimits, nowMs);
    const protocol = target.pointId.slice(0, Math.max(0, target.pointId.indexOf(':')));
    const adapter = this.deps.adapters.get(protocol);
    if (!adapter)
      throw new CommandRefused(
        RefusalCode.DeliveryUnavailable,
        `no ${protocol || 'protocol'} delivery is configured (dsx-bms: mqttUrl and dsxIntegration; sparkplug: mqttUrl; modbus: modbusDevices)`,
      );
    const plan = await adapter.plan(target, value);
    const delivered = plan.deliveredValue;
    if (typeof delivered === 'number' && rule.type === 'number') {
      const slack = BOUND_SLACK * Math.max(1, Math.abs(delivered));
      if (delivered < (rule.min as number) - slack || delivered > (rule.max as number) + slack)
        throw new CommandRefused(
          RefusalCode.NotRepresentable,
          `the source holds ${plan.sourceValue} ${plan.sourceUnit}, which is ${delivered}: outside [${rule.min}, ${rule.max}]`,
        );
    }
    return { compiled, value, plan };
  }

  /** Marks the delivery as begun (never again after a crash), sends it, records the outcome, tracks the readback. */
  private async deliver(stored: Stored, { compiled, plan }: Prepared): Promise<Stored> {
    const cmd = stored.record.command as busway.v1.ICommand;
    const id = cmd.commandId as string;
    stored = await this.deps.store.update(id, {
      record: { ...stored.record, delivering: true },
      revision: stored.revision,
    });
    const before = await this.deps.watch.current(compiled.readback);
    let status: busway.v1.ICommandStatus;
    try {
      await plan.send(msFromTimeNs(cmd.expiresTimeNs));
      status = statusOf(cmd, State.COMMAND_STATE_SENT, Date.now(), {
        pointId: compiled.target.pointId,
        protocol: plan.protocol,
        address: plan.address,
        readbackPointId: compiled.readback.pointId,
        ...valueFields(plan.deliveredValue, compiled.target.metric),
        ...(typeof plan.sourceValue === 'number'
          ? { sourceValue: plan.sourceValue, sourceUnit: plan.sourceUnit }
          : {}),
      });
    } catch (err) {
      const code =
        err instanceof CommandRefused || err instanceof DeliveryError ? err.code : RefusalCode.DeliveryFailed;
      const state = code === RefusalCode.Expired ? State.COMMAND_STATE_EXPIRED : State.COMMAND_STATE_FAILED;
      status = statusOf(cmd, state, Date.now(), {
        code,
        reason: (err as Error).message,
        protocol: plan.protocol,
        address: plan.address,
      });
    }
    const sent = status.state === State.COMMAND_STATE_SENT;
    const nowMs = Date.now();
    const record: busway.v1.ICommandRecord = {
      ...stored.record,
      statuses: [...(stored.record.statuses ?? []), status],
      ...(sent
        ? {
            confirmByNs: timeNsFromMs(nowMs + compiled.rule.confirmTimeoutMs),
            readbackPointId: compiled.readback.pointId,
            tolerance: compiled.rule.tolerance,
            readbackAfterNs: timeNsFromMs(before?.timeMs ?? nowMs),
          }
        : {}),
    };
    stored = await this.deps.store.update(id, { record, revision: stored.revision });
    this.count(status);
    stored = await this.publish(stored);
    if (sent) this.track(stored, plan.deliveredValue); // what the source really holds after rounding
    return stored;
  }

  private track(stored: Stored, value: CommandValue): void {
    const r = stored.record;
    const pending: Pending = {
      commandId: r.command?.commandId ?? '',
      readbackPointId: r.readbackPointId ?? '',
      target: value,
      tolerance: r.tolerance ?? 0,
      sentAtMs: msFromTimeNs(r.readbackAfterNs),
      deadlineMs: msFromTimeNs(r.confirmByNs),
    };
    const readback = this.rules.readbacks().find((p) => p.pointId === pending.readbackPointId);
    void (async () => {
      const current = readback ? await this.deps.watch.current(readback) : undefined;
      this.confirmations.track(pending, current);
    })();
  }

  /** Records what confirmation tracking found: confirmed with the value read back, or failed at the deadline. */
  private async settle(p: Pending, outcome: ConfirmOutcome): Promise<void> {
    const nowMs = Date.now();
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const stored = await this.deps.store.get(p.commandId);
        if (!stored || isFinal(lastState(stored))) return;
        const cmd = stored.record.command as busway.v1.ICommand;
        const seen = outcome.kind === 'confirmed' ? outcome.reading : outcome.last;
        const observed =
          seen && typeof seen.value === 'number'
            ? { observedValue: seen.value, observedTimeNs: timeNsFromMs(seen.timeMs) }
            : seen
              ? { observedTimeNs: timeNsFromMs(seen.timeMs) }
              : {};
        const status =
          outcome.kind === 'confirmed'
            ? statusOf(cmd, State.COMMAND_STATE_CONFIRMED, nowMs, {
                readbackPointId: p.readbackPointId,
                ...observed,
              })
            : statusOf(cmd, State.COMMAND_STATE_FAILED, nowMs, {
                code: RefusalCode.NotConfirmed,
                reason: `${p.readbackPointId} did not reach ${String(p.target)} ± ${p.tolerance} before the deadline${seen ? ` (last read ${String(seen.value)})` : ' (nothing read)'}`,
                readbackPointId: p.readbackPointId,
                ...observed,
              });
        const updated = await this.deps.store.update(p.commandId, {
          record: { ...stored.record, statuses: [...(stored.record.statuses ?? []), status] },
          revision: stored.revision,
        });
        this.count(status);
        await this.publish(updated);
        return;
      } catch (err) {
        this.deps.log.warn(
          { err: (err as Error).message, command: p.commandId },
          'confirmation not recorded yet; retrying',
        );
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
      }
    }
    this.deps.log.error(
      { command: p.commandId },
      'confirmation outcome not recorded: it is resumed at the next start',
    );
  }

  /**
   * Brings a known command's record up to date: its statuses published, a sent one tracked again, an accepted
   * one delivered if no delivery began (a delivery that began before a crash is never tried again).
   */
  async resume(stored: Stored): Promise<void> {
    stored = await this.publish(stored);
    const state = lastState(stored);
    const cmd = stored.record.command as busway.v1.ICommand;
    if (state === State.COMMAND_STATE_SENT) {
      const value = cmd.boolValue ?? stored.record.statuses?.at(-1)?.value;
      if (value != null) this.track(stored, value);
      return;
    }
    if (state !== State.COMMAND_STATE_ACCEPTED) return;
    const nowMs = Date.now();
    let prepared: Prepared | undefined;
    let status: busway.v1.ICommandStatus | undefined;
    if (stored.record.delivering)
      status = statusOf(cmd, State.COMMAND_STATE_FAILED, nowMs, {
        code: RefusalCode.DeliveryUnknown,
        reason:
          'a delivery began before the worker stopped; it is never attempted twice, so its outcome is unknown',
      });
    else
      try {
        checkCommand(cmd, nowMs, this.deps.config.maxTtlMs);
        prepared = await this.prepare(cmd, nowMs, false);
      } catch (err) {
        if (!(err instanceof CommandRefused)) throw err;
        const s = err.code === RefusalCode.Expired ? State.COMMAND_STATE_EXPIRED : State.COMMAND_STATE_FAILED;
        status = statusOf(cmd, s, nowMs, { code: err.code, reason: err.message });
      }
    if (prepared) {
      await this.deliver(stored, prepared);
      return;
    }
    if (!status) return;
    const record = { ...stored.record, statuses: [...(stored.record.statuses ?? []), status] };
    const updated = await this.deps.store.update(cmd.commandId as string, {
      record,
      revision: stored.revision,
    });
    this.count(status);
    await this.publish(updated);
  }

  /** At start: every record brought up to date, and the rate limits rebuilt from the accepted ones. */
  async recover(): Promise<number> {
    let n = 0;
    for await (const [, stored] of this.deps.store.all()) {
      n++;
      for (const s of stored.record.statuses ?? [])
        if (s.state === State.COMMAND_STATE_ACCEPTED)
          this.deps.rates.record(s.pointId ?? '', s.requestedBy ?? '', msFromTimeNs(s.timeNs));
      if (!isFinal(lastState(stored)))
        await this.resume(stored).catch((err: Error) =>
          this.deps.log.warn(
            { err: err.message, command: stored.record.command?.commandId },
            'command not resumed',
          ),
        );
    }
    return n;
  }

  private async publish(stored: Stored): Promise<Stored> {
    const total = stored.record.statuses?.length ?? 0;
    if ((stored.record.published ?? 0) >= total) return stored;
    const published = await publishStatuses(this.deps.js, stored);
    const id = stored.record.command?.commandId as string;
    return this.deps.store.update(id, { record: { ...stored.record, published }, revision: stored.revision });
  }

  private count(s: busway.v1.ICommandStatus): void {
    this.deps.counter.inc({ state: stateName(s.state), code: s.code || 'ok' });
    this.deps.log.info(
      {
        command: s.commandId,
        state: stateName(s.state),
        code: s.code || undefined,
        reason: s.reason || undefined,
        point: s.pointId,
      },
      `command ${stateName(s.state)}`,
    );
  }

  close(): void {
    this.confirmations.close();
  }
}

/** The value fields of a status: a number in the metric's canonical unit, or a switch position. */
function valueFields(v: CommandValue, metric: string): busway.v1.ICommandStatus {
  return typeof v === 'boolean' ? { boolValue: v } : { value: v, unit: canonicalUnitOf(metric) ?? '' };
}
