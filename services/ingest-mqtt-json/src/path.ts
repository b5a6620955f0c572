/** A value inside a JSON document by a dotted path with optional indexes: `object.temperature`, `rxInfo[0].rssi`. */
export function valueAt(doc: unknown, path: string): unknown {
  if (path === '' || path === '$') return doc;
  let cur: unknown = doc;
  for (const part of path.replace(/^\$\.?/, '').split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) return undefined;
    if (m[1])
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[m[1]] : undefined;
    for (const idx of (m[2] ?? '').match(/\d+/g) ?? [])
      cur = Array.isArray(cur) ? cur[Number(idx)] : undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Fills `{name}` placeholders from topic captures and `{$.path}` ones from the document. */
export function fill(template: string, captures: Record<string, string>, doc: unknown): string {
  return template.replace(/\{([^}]+)\}/g, (_, key: string) =>
    key.startsWith('$') ? String(valueAt(doc, key) ?? '') : (captures[key] ?? ''),
  );
}

/**
 * An MQTT topic pattern with named single-level captures (`application/{app}/device/{devEui}/event/up`) as a
 * subscription filter (`application/+/device/+/event/up`) and a matcher that returns the captures.
 */
export function compileTopic(pattern: string): {
  filter: string;
  match: (topic: string) => Record<string, string> | undefined;
} {
  const parts = pattern.split('/');
  const filter = parts.map((p) => (/^\{\w+\}$/.test(p) ? '+' : p)).join('/');
  return {
    filter,
    match(topic) {
      const t = topic.split('/');
      const out: Record<string, string> = {};
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i] ?? '';
        if (p === '#') return out;
        if (t[i] === undefined) return undefined;
        const cap = /^\{(\w+)\}$/.exec(p);
        if (cap?.[1]) out[cap[1]] = t[i] ?? '';
        else if (p !== '+' && p !== t[i]) return undefined;
      }
      return t.length === parts.length ? out : undefined;
    },
  };
}
