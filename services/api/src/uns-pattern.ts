import { subjectCovers } from '@busway/runtime';
import { badRequest } from './errors.js';

/** A validated UNS subject or NATS wildcard pattern over the UNS. */
export interface UnsPattern {
  /** Full subject or pattern, `uns.v1.` included. */
  subject: string;
  /** True when it names exactly one point (no `*`, no `>`). */
  exact: boolean;
}

const PREFIX = 'uns.v1.';
const TOKEN = /^[a-z0-9_-]{1,64}$/;
const MAX_LENGTH = 512;
const MAX_TOKENS = 32;
/** site, hall, row, rack, class, asset and at least one metric token after `uns.v1`. */
const POINT_TOKENS = 7;

/**
 * Reads a UNS path or pattern from a query: `uns.v1.ai1.h1.r1.plant-r1.cdu.cdu-r1.temperature.coolant.return`,
 * the same without `uns.v1.`, or a NATS pattern (`uns.v1.ai1.*.*.*.cdu.>`). Tokens are lower case, as
 * `token()` writes them. Throws a 400 naming what is wrong.
 */
export function parseUnsPattern(raw: unknown, param = 'path'): UnsPattern {
  if (typeof raw !== 'string' || raw.length === 0)
    throw badRequest(
      'bad-path',
      `${param} is required: a UNS path such as uns.v1.<site>.<hall>.… or a pattern`,
    );
  if (raw.length > MAX_LENGTH)
    throw badRequest('bad-path', `${param} is ${raw.length} characters long; at most ${MAX_LENGTH}`);
  const subject = raw.startsWith(PREFIX) || raw === 'uns.v1' ? raw : `${PREFIX}${raw}`;
  const tokens = subject.split('.');
  if (tokens.length > MAX_TOKENS)
    throw badRequest('bad-path', `${param} has ${tokens.length} tokens; at most ${MAX_TOKENS}`);
  if (tokens.length < 3) throw badRequest('bad-path', `${param} names nothing after uns.v1`);
  let exact = true;
  tokens.slice(2).forEach((t, i) => {
    const where = `${param} token ${i + 1} after uns.v1`;
    if (t === '') throw badRequest('bad-path', `${where} is empty (two dots in a row, or a dot at an end)`);
    if (t === '>') {
      if (i !== tokens.length - 3) throw badRequest('bad-path', `'>' must be the last token of ${param}`);
      exact = false;
    } else if (t === '*') exact = false;
    else if (!TOKEN.test(t))
      throw badRequest(
        'bad-path',
        `${where} ('${t.slice(0, 64)}') must be 1 to 64 lower-case letters, digits, '_' or '-', or a whole-token wildcard '*' or '>'`,
      );
  });
  if (exact && tokens.length - 2 < POINT_TOKENS)
    throw badRequest(
      'bad-path',
      `${param} names no single point: a point is uns.v1.<site>.<hall>.<row>.<rack>.<class>.<asset>.<metric…>; use '>' or '*' to match several`,
    );
  return { subject, exact };
}

/** Whether a subject matches a NATS pattern (`*` one token, `>` one or more trailing tokens). */
export const subjectMatches: (pattern: string, subject: string) => boolean = subjectCovers;
