/**
 * A bounded map that forgets the least recently used entry first. A Map keeps insertion order,
 * so "use" is delete-then-set and the oldest entry is the first key: O(1) with no linked list.
 */
export interface LruCache<V> {
  readonly capacity: number;
  readonly size: number;
  get(key: string): V | undefined;
  /** Reads without counting as a use (background refresh must not keep cold entries warm). */
  peek(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): boolean;
  clear(): void;
}

export function createLruCache<V>(capacity: number): LruCache<V> {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`cache capacity must be a positive integer (got ${capacity})`);
  const entries = new Map<string, V>();
  return {
    capacity,
    get size() {
      return entries.size;
    },
    get(key) {
      const value = entries.get(key);
      if (value === undefined) return undefined;
      entries.delete(key);
      entries.set(key, value);
      return value;
    },
    peek: (key) => entries.get(key),
    set(key, value) {
      entries.delete(key);
      entries.set(key, value);
      if (entries.size > capacity) entries.delete(entries.keys().next().value!);
    },
    delete: (key) => entries.delete(key),
    clear: () => entries.clear(),
  };
}
