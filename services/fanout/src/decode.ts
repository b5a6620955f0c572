import type { JsMsg } from '@nats-io/jetstream';
import type { ChainableCommander } from 'ioredis';
import { readEnvelope, type Outcome } from '@busway/runtime';

/** A message refused before use, with its outcome (a class, so no decoded payload is ever mistaken for it). */
export class Refused {
  constructor(readonly outcome: Outcome) {}
}

/** Decodes a message of the expected `ce-type`; anything else is refused as poison with the reason. */
export function decodeOrPoison<T>(msg: JsMsg, type: string, decode: (d: Uint8Array) => T): T | Refused {
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

/** ioredis resolves a pipeline with per-command errors: any of them fails the batch. */
export async function execAll(pipe: ChainableCommander): Promise<unknown[]> {
  const results = await pipe.exec();
  if (!results) throw new Error('pipeline discarded');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** A transient failure of a batch's store or publish: redelivered after the consumer's nak delay. */
export const transient = (err: unknown, what = 'redis'): Outcome => ({
  kind: 'retry',
  code: 'transient',
  message: `${what}: ${(err as Error).message}`,
});
