import { badRequest } from './errors.js';

/** A request's query string as fastify parsed it. */
export type Query = Record<string, unknown>;

/** Refuses parameters the route does not know, so a typo (`form=` for `from=`) is never silently ignored. */
export function onlyParams(query: Query, allowed: readonly string[]): void {
  for (const key of Object.keys(query))
    if (!allowed.includes(key))
      throw badRequest(
        'unknown-parameter',
        `unknown query parameter '${key.slice(0, 64)}'; this route takes ${allowed.join(', ') || 'none'}`,
      );
}

/** One optional string parameter; given twice is an error. */
export function stringParam(query: Query, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v))
    throw badRequest('duplicate-parameter', `query parameter '${name}' is given more than once`);
  return String(v);
}

/** An optional integer parameter within [min, max]. */
export function intParam(query: Query, name: string, min: number, max: number): number | undefined {
  const raw = stringParam(query, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,12}$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw badRequest(
      'bad-parameter',
      `${name} must be a whole number from ${min} to ${max}, not '${raw.slice(0, 32)}'`,
    );
  return Number(raw);
}

/** An optional number parameter within [min, max]. */
export function numberParam(query: Query, name: string, min: number, max: number): number | undefined {
  const raw = stringParam(query, name);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < min || v > max)
    throw badRequest(
      'bad-parameter',
      `${name} must be a number from ${min} to ${max}, not '${raw.slice(0, 32)}'`,
    );
  return v;
}

/** An optional boolean parameter: true/false/1/0. */
export function boolParam(query: Query, name: string): boolean | undefined {
  const raw = stringParam(query, name);
  if (raw === undefined) return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw badRequest('bad-parameter', `${name} must be true or false, not '${raw.slice(0, 32)}'`);
}
