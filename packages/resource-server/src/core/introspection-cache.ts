/**
 * Where introspection answers are kept between requests. The introspector hands a cache only the
 * SHA-256 of the token (base64url) as the key, never the token, and decides every TTL itself:
 * active answers live at most `cacheTtlSeconds` and never past the token's `exp`, inactive ones
 * `inactiveTtlSeconds`. In memory by default; `@m2m-auth/resource-server/redis` shares one across
 * instances.
 *
 * A cache that throws or rejects is treated as a miss (the token is introspected): it must never
 * be the reason a request fails.
 */
export interface IntrospectionCache {
  /** The claims of an active token, `null` for an inactive one, `undefined` when nothing is cached. */
  get(tokenHash: string): IntrospectionAnswer | undefined | Promise<IntrospectionAnswer | undefined>;
  /** Keeps the answer for `ttlMs` milliseconds (always ≥ 1). */
  set(tokenHash: string, answer: IntrospectionAnswer, ttlMs: number): void | Promise<void>;
}

/** An RFC 7662 answer: the active token's claims, or `null` when it is not active. */
export type IntrospectionAnswer = Record<string, unknown> | null;

/** Bounded by `maxEntries` (the oldest entry goes first); `now` in milliseconds. */
export function createMemoryIntrospectionCache(options: { maxEntries?: number; now?: () => number } = {}): IntrospectionCache {
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { answer: IntrospectionAnswer; until: number }>();
  return {
    get(tokenHash) {
      const entry = entries.get(tokenHash);
      if (!entry) return undefined;
      if (entry.until <= now()) {
        entries.delete(tokenHash);
        return undefined;
      }
      return entry.answer;
    },
    set(tokenHash, answer, ttlMs) {
      entries.delete(tokenHash);
      // Map iteration order is insertion order: the first key is the oldest entry.
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(tokenHash, { answer, until: now() + ttlMs });
    },
  };
}
