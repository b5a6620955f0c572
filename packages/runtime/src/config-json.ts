import { z } from 'zod';

/**
 * A zod preprocessor for keys whose value is a list or a map: a string (from an environment variable) is read as
 * JSON, a value from the config file passes as it is. Bad JSON is a config issue naming what was expected
 * (`not a JSON array of devices: …`), reported with the key and its environment variable like any other.
 */
export function fromJson(what: string): (raw: unknown, ctx: z.RefinementCtx) => unknown {
  return (raw, ctx) => {
    if (typeof raw !== 'string') return raw;
    try {
      return JSON.parse(raw) as unknown;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a JSON ${what}: ${(err as Error).message}` });
      return z.NEVER;
    }
  };
}
