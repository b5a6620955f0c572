import type { JsMsg } from '@nats-io/jetstream';
import type { Outcome } from './consume-loop.js';
import { readEnvelope } from './headers.js';

/**
 * A message refused before use, with its outcome. A class, so that no decoded payload is ever mistaken for an
 * outcome: an Incident, for one, has a `kind` field too.
 */
export class Refused {
  constructor(readonly outcome: Outcome) {}
}

/** Decodes a fabric message of the expected `ce-type`; anything else is refused as poison with the reason. */
export function decodeOrRefuse<T>(msg: JsMsg, type: string, decode: (d: Uint8Array) => T): T | Refused {
  const env = readEnvelope(msg.headers);
  if (env.type !== type)
    return new Refused({
      kind: 'poison',
      code: 'contract-violation',
      message: `expected ${type}, got '${env.type}'`,
    });
  try {
    return decode(msg.data);
  } catch (err) {
    return new Refused({ kind: 'poison', code: 'decode-error', message: (err as Error).message });
  }
}
