// Supervisory write-back: setpoint commands validated, delivered through the source's protocol, confirmed.
import { Streams } from '@busway/proto';
import { consumerSpecOf, type WorkerModule } from '@busway/runtime';
import { startCommandWorker } from './command-worker.js';
import { CommandConfigSchema } from './config.js';

export { CommandConfigSchema, WriteRuleSchema } from './config.js';
export type { CommandConfig, WriteRule } from './config.js';
export { RefusalCode, CommandRefused, DeliveryError } from './errors.js';
export { commandToCanonical, canonicalToSource, sourceToCanonical } from './units.js';
export { checkCommand, checkAgainstRule, valueOf, COMMAND_ID } from './validate.js';
export type { CommandValue, Current } from './validate.js';
export { RateLimits } from './rate-limit.js';
export { RuleBook } from './rules.js';
export type { CompiledRule, ResolvedPoint } from './rules.js';
export { PointWatch, readingOf, readingOfHash } from './point-watch.js';
export type { Reading } from './point-watch.js';
export { Confirmations, reaches } from './confirmations.js';
export type { Pending, ConfirmOutcome } from './confirmations.js';
export { CommandStore } from './command-store.js';
export { encodeRegisters, quantizeRegister } from './adapters/modbus-encode.js';
export { commandMetric, quantizeSparkplug } from './adapters/sparkplug-encode.js';
export type { BirthMetric } from './adapters/sparkplug-encode.js';
export { stateName } from './status.js';
export { startCommandWorker } from './command-worker.js';

export const commandModule: WorkerModule<typeof CommandConfigSchema> = {
  name: 'command',
  stage: 'command',
  description:
    'supervisory write-back: setpoint commands checked against write rules, delivered by DSX, Sparkplug or Modbus, confirmed by readback',
  configSchema: CommandConfigSchema,
  consumers: (c) => [
    consumerSpecOf(Streams.Control.name, c.durable, 'control.v1.command.>', {
      maxAckPending: c.controlMaxAckPending,
      ackWaitMs: c.controlAckWaitMs,
      maxDeliver: c.controlMaxDeliver,
    }),
  ],
  start: startCommandWorker,
};
