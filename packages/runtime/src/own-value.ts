/**
 * `table[key]` for a key that comes from input: only the table's own entries, so a key such as `constructor`
 * or `__proto__` finds nothing instead of one of Object's members.
 */
export function ownValue<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
