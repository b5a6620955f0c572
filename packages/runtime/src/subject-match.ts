/**
 * Whether every subject `covered` matches is matched by `pattern` too (NATS wildcards: `*` one token, `>` one
 * or more trailing tokens); `covered` may hold wildcards itself (a consumer filter, a permission).
 */
export function subjectCovers(pattern: string, covered: string): boolean {
  const p = pattern.split('.');
  const c = covered.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return c.length > i;
    if (i >= c.length || c[i] === '>') return false;
    if (p[i] !== '*' && p[i] !== c[i]) return false;
  }
  return p.length === c.length;
}
