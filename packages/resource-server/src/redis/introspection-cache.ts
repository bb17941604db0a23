import type { IntrospectionAnswer, IntrospectionCache } from '../core/introspection-cache.js';
import { openRedisStore, type RedisStoreOptions } from './connection.js';

export interface RedisIntrospectionCache extends IntrospectionCache {
  /** Closes the connection the cache opened from a URL (a client you passed is left open). */
  close(): Promise<void>;
}

/**
 * Introspection answers shared by every instance: one instance's introspection serves the others
 * until the TTL the introspector chose (active: min(cacheTtlSeconds, exp); inactive:
 * inactiveTtlSeconds). The key is the SHA-256 of the token the introspector computed — this cache
 * never sees the token — and the value the answer's JSON. When Redis cannot answer, the
 * introspector treats it as a miss and introspects: availability over a saved round trip.
 */
export function createRedisIntrospectionCache(options: RedisStoreOptions): RedisIntrospectionCache {
  const redis = openRedisStore('createRedisIntrospectionCache', options);
  const prefix = `${redis.keyPrefix}introspection:`;
  return {
    async get(tokenHash) {
      const value = await redis.run(redis.client.get(prefix + tokenHash));
      return value === null ? undefined : parseAnswer(value);
    },
    async set(tokenHash, answer, ttlMs) {
      await redis.run(redis.client.set(prefix + tokenHash, JSON.stringify(answer), 'PX', ttlMs));
    },
    close: redis.close,
  };
}

/** `null` (inactive) or the claims of an active token; anything else is not ours (a failure, so a miss). */
function parseAnswer(value: string): IntrospectionAnswer {
  const answer = JSON.parse(value) as unknown;
  if (answer === null) return null;
  if (typeof answer === 'object' && !Array.isArray(answer) && (answer as Record<string, unknown>).active === true) return answer as Record<string, unknown>;
  throw new Error('the cached introspection answer is not one this SDK wrote');
}
