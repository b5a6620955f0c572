/** Codes of every error Busway raises on purpose; metrics and dead letters carry them as the reason. */
export const ErrorCode = {
  Config: 'config',
  Contract: 'contract-violation',
  Decode: 'decode-error',
  UnitMismatch: 'unit-mismatch',
  ClockSkew: 'clock-skew',
  Transient: 'transient',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base of all Busway errors: a stable `code` for metrics and dead letters, the cause chained. */
export class BuswayError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Thrown at startup when configuration is missing or malformed; names the key and the expected form. */
export class ConfigError extends BuswayError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.Config, message, options);
  }
}

/** Thrown when a message cannot be decoded at all (bad protobuf, bad JSON): poison, never retried. */
export class DecodeError extends BuswayError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.Decode, message, options);
  }
}

/** Thrown when a message decodes but breaks the contract (missing identity, bad value type): poison. */
export class ContractViolation extends BuswayError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.Contract, message, options);
  }
}

/** Thrown when a unit does not fit the metric's quantity kind (kW on a temperature): poison. */
export class UnitMismatch extends BuswayError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.UnitMismatch, message, options);
  }
}

/** Thrown when a dependency (Redis, a JetStream publish) fails in a way that a retry may cure. */
export class TransientError extends BuswayError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.Transient, message, options);
  }
}

/** A poison message will fail the same way every time: dead-letter it, never redeliver it. */
export function isPoison(err: unknown): err is BuswayError {
  return (
    err instanceof DecodeError ||
    err instanceof ContractViolation ||
    err instanceof UnitMismatch ||
    (err instanceof BuswayError && err.code === ErrorCode.ClockSkew)
  );
}

export function isTransient(err: unknown): err is TransientError {
  return err instanceof TransientError;
}

/** The reason string a dead letter and a metric label carry for an error. */
export function reasonOf(err: unknown): { code: string; message: string } {
  if (err instanceof BuswayError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: ErrorCode.Internal, message: err.message };
  return { code: ErrorCode.Internal, message: String(err) };
}
