import {
  bucketLifetimeMs,
  DEFAULT_MAX_STATE_ENTRIES,
  refillBucket,
  type AttemptCount,
  type SharedState,
  type SharedStateOptions,
} from '../types.js';

/**
 * One process only: for tests and `storage: 'memory'`. Each concern is a Map bounded by
 * `maxEntries`; when full, expired entries go first, then the oldest inserted.
 */
export function createMemoryState(options: SharedStateOptions): SharedState {
  const { now } = options;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_STATE_ENTRIES;
  const revoked = new Map<string, number>();
  const assertions = new Map<string, number>();
  const attempts = new Map<string, AttemptCount>();
  const buckets = new Map<string, { tokens: number; updatedAt: number; expiresAt: number }>();
  const all = [revoked, assertions, attempts, buckets] as Map<string, unknown>[];

  const expiryOf = (value: unknown) => (typeof value === 'number' ? value : (value as { expiresAt: number }).expiresAt);

  function purge(map: Map<string, unknown>, at: number): number {
    let dropped = 0;
    for (const [key, value] of map) {
      if (expiryOf(value) <= at) {
        map.delete(key);
        dropped += 1;
      }
    }
    return dropped;
  }

  function makeRoom(map: Map<string, unknown>, key: string) {
    if (map.size < maxEntries || map.has(key)) return;
    purge(map, now());
    // Still full: drop the oldest tenth at once, so a flood does not pay a scan per insert.
    if (map.size >= maxEntries) {
      let excess = Math.max(1, Math.floor(maxEntries / 10));
      for (const oldest of map.keys()) {
        map.delete(oldest);
        if (--excess === 0) break;
      }
    }
  }

  const live = <T>(map: Map<string, T>, key: string): T | undefined => {
    const value = map.get(key);
    if (value === undefined) return undefined;
    if (expiryOf(value) > now()) return value;
    map.delete(key);
    return undefined;
  };

  return {
    kind: 'memory',
    async revokeToken(jti, expiresAt) {
      if (expiresAt <= now()) return;
      makeRoom(revoked, jti);
      revoked.set(jti, Math.max(expiresAt, revoked.get(jti) ?? 0));
    },
    async isTokenRevoked(jti) {
      return live(revoked, jti) !== undefined;
    },
    async useOnce(key, expiresAt) {
      if (live(assertions, key) !== undefined) return false;
      makeRoom(assertions, key);
      assertions.set(key, expiresAt);
      return true;
    },
    async countAttempt(key, ttlMs) {
      const previous = live(attempts, key);
      makeRoom(attempts, key);
      const next = { count: (previous?.count ?? 0) + 1, expiresAt: now() + ttlMs };
      attempts.delete(key); // re-insert: Map order becomes "least recently counted first"
      attempts.set(key, next);
      return { ...next };
    },
    async peekAttempts(key) {
      const value = live(attempts, key);
      return value && { ...value };
    },
    async take(key, limit) {
      const at = now();
      const result = refillBucket(live(buckets, key), limit, at);
      makeRoom(buckets, key);
      buckets.set(key, { tokens: result.tokens, updatedAt: at, expiresAt: at + bucketLifetimeMs(result.tokens, limit) });
      return { isAllowed: result.isAllowed, retryAfterMs: result.retryAfterMs };
    },
    async purgeExpired() {
      const at = now();
      return all.reduce((sum, map) => sum + purge(map, at), 0);
    },
    async close() {
      for (const map of all) map.clear();
    },
  };
}
