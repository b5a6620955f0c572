/** Why a command was refused or failed: the `code` of its CommandStatus (a stable metric label). */
export const RefusalCode = {
  /** A field is missing or malformed (no value, NaN, a bad id). */
  Malformed: 'malformed',
  /** Its expiry passed before delivery. */
  Expired: 'expired',
  /** No write rule names the point: points are read-only unless configured. */
  NotWritable: 'not-writable',
  /** A rule names the point but the registry does not know it (yet). */
  UnknownPoint: 'unknown-point',
  /** The requester lacks the write scope or is not among the rule's requesters. */
  NotAuthorized: 'not-authorized',
  /** A number for a switch, or a switch position for a setpoint. */
  WrongType: 'wrong-type',
  /** The command's unit does not convert to the metric's canonical unit. */
  UnitMismatch: 'unit-mismatch',
  /** Below the rule's min or above its max. */
  OutOfBounds: 'out-of-bounds',
  /** Further from the current value than the rule's maxStep. */
  StepTooLarge: 'step-too-large',
  /** Sooner than minIntervalMs after the point's last command, or over the requester's limit. */
  RateLimited: 'rate-limited',
  /** The current value cannot be read (unknown, stale, bad quality, readback disconnected): no command is safe. */
  Blind: 'blind',
  /** The adapter cannot deliver now (broker disconnected) or is not configured for the point's protocol. */
  DeliveryUnavailable: 'delivery-unavailable',
  /** The source's own contract does not let us write this point (DSX integration, Sparkplug birth, Modbus table). */
  NotDeliverable: 'not-deliverable',
  /** The value does not fit what the source holds (integer range, register type) within the bounds. */
  NotRepresentable: 'not-representable',
  /** The delivery itself failed: the broker or the device refused or did not answer. */
  DeliveryFailed: 'delivery-failed',
  /** A delivery began before a crash: never attempted again, its outcome is unknown. */
  DeliveryUnknown: 'delivery-unknown',
  /** The value read back did not reach the setpoint before the deadline. */
  NotConfirmed: 'not-confirmed',
} as const;
export type RefusalCode = (typeof RefusalCode)[keyof typeof RefusalCode];

/** Thrown by validation and adapters when a command must not be delivered; nothing reached a device. */
export class CommandRefused extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'CommandRefused';
  }
}

/** Thrown by an adapter when a delivery was attempted and failed (the device may or may not have it). */
export class DeliveryError extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DeliveryError';
  }
}
