/**
 * A map that keeps at most `max` entries, forgetting the least recently used: what a warm container may remember
 * between invocations without its memory growing with everything it ever saw. A Map iterates in insertion order, so
 * re-inserting on use keeps the least recently used first.
 */
export interface Lru<K, V> {
  /** The value, marked as just used. */
  get(key: K): V | undefined;
  /** Stores the value as the most recently used, forgetting the least recently used past the bound. */
  set(key: K, value: V): void;
  delete(key: K): boolean;
  readonly size: number;
}

export function createLru<K, V>(max: number): Lru<K, V> {
  const entries = new Map<K, V>();
  return {
    get(key) {
      if (!entries.has(key)) return undefined;
      const value = entries.get(key) as V;
      entries.delete(key);
      entries.set(key, value);
      return value;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, value);
      if (entries.size > max) entries.delete(entries.keys().next().value as K);
    },
    delete: (key) => entries.delete(key),
    get size() {
      return entries.size;
    },
  };
}
