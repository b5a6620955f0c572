import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so the same object always gives the same text (whatever order a VTN sends). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A short, stable digest of an object's content. */
export function contentHash(value: unknown, length = 12): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url').slice(0, length);
}

/**
 * The identity of one revision of an event: its modification time at the VTN and a digest of its content.
 * A re-read or a re-delivered callback gives the same revision; an update gives a new one even from a VTN
 * whose clock did not move (OpenADR 3.1 has no modification number).
 */
export function revisionOf(modificationNs: bigint, object: unknown): string {
  return `${modificationNs}-${contentHash(object)}`;
}
