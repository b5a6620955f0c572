import type { ChainableCommander } from 'ioredis';
import type { Outcome } from '@busway/runtime';

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
