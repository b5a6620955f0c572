// NATS subject matching, as the server applies permissions: `*` is one token, `>` one or more trailing tokens.

/** Whether `pattern` (with wildcards) covers `subject` (a literal subject, or a pattern treated as literal). */
export function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** A literal subject that the pattern covers: wildcards replaced by sample tokens. */
export function concrete(pattern: string, token = 'probe'): string {
  return pattern
    .split('.')
    .map((t) => (t === '*' ? token : t === '>' ? `${token}.x` : t))
    .join('.');
}
