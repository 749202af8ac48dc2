/**
 * `table[key]` for a key that came from a request: only the table's own entries count, so that
 * "constructor", "__proto__" or "toString" find nothing instead of Object.prototype's members.
 */
export function ownEntry<V>(table: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
