import { ErrorClass, ErrorCode } from '@bacnet-js/client';
import { messageOf, TransientError } from '@busway/runtime';
import { kebabOf } from './object-types.js';

/** Why a request failed, from what @bacnet-js/client rejects with (it rejects with messages only). */
export type RequestFailure =
  | { kind: 'timeout'; message: string }
  /** The device answered with a BACnet Error PDU. */
  | { kind: 'error'; errorClass: number; errorCode: number; message: string }
  /** The device answered with an Abort or a Reject PDU (the library reports both as aborts). */
  | { kind: 'abort'; reason: number; message: string }
  /** Anything else, e.g. an answer the library could not decode. */
  | { kind: 'other'; message: string };

const nameIn = (group: Record<number, unknown>, n: number): string => {
  const key = group[n];
  return typeof key === 'string' ? kebabOf(key) : String(n);
};

/** `object: unknown-object` for (1, 31). */
export function errorNameOf(errorClass: number, errorCode: number): string {
  return `${nameIn(ErrorClass as unknown as Record<number, unknown>, errorClass)}: ${nameIn(ErrorCode as unknown as Record<number, unknown>, errorCode)}`;
}

export function failureOf(err: unknown): RequestFailure {
  const message = messageOf(err);
  if (err instanceof TransientError || message === 'ERR_TIMEOUT') return { kind: 'timeout', message };
  const error = /^BacnetError - Class:(\d+) - Code:(\d+)/.exec(message);
  if (error) {
    const [errorClass, errorCode] = [Number(error[1]), Number(error[2])];
    return { kind: 'error', errorClass, errorCode, message: errorNameOf(errorClass, errorCode) };
  }
  const abort = /^BacnetAbort - Reason:(\d+)/.exec(message);
  if (abort)
    return { kind: 'abort', reason: Number(abort[1]), message: `abort or reject, reason ${abort[1]}` };
  return { kind: 'other', message };
}

/** A device that rejects ReadPropertyMultiple itself (not one of its objects) supports only ReadProperty. */
export function rejectsService(f: RequestFailure): boolean {
  return f.kind === 'abort' || (f.kind === 'error' && f.errorClass === ErrorClass.SERVICES);
}
