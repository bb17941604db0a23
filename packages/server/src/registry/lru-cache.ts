/**
 * A bounded map that forgets the least recently used entries first. A Map keeps insertion order,
 * so the oldest entry is the first key and "use" means delete-then-set — but that costs ~1–3 µs
 * on a map of 100,000+ entries, several times per token. So a hit moves an entry to the young end
 * only once it has drifted into the older half: a hot entry never reaches the eviction end, and
 * most hits are a plain lookup. (An approximation of LRU that evicts the same cold entries.)
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
  const entries = new Map<string, { value: V; stamp: number }>();
  // Counts insertions: an entry stamped more than half the capacity ago is in the older half.
  let clock = 0;
  const halfCapacity = Math.max(1, Math.floor(capacity / 2));
  return {
    capacity,
    get size() {
      return entries.size;
    },
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (clock - entry.stamp >= halfCapacity) {
        entries.delete(key);
        entry.stamp = ++clock;
        entries.set(key, entry);
      }
      return entry.value;
    },
    peek: (key) => entries.get(key)?.value,
    set(key, value) {
      entries.delete(key);
      entries.set(key, { value, stamp: ++clock });
      if (entries.size > capacity) entries.delete(entries.keys().next().value!);
    },
    delete: (key) => entries.delete(key),
    clear: () => entries.clear(),
  };
}
