import type { ReplayStore } from '../core/replay-store.js';
import { hashKey, openRedisStore, type RedisStoreOptions } from './connection.js';

export interface RedisReplayStoreOptions extends RedisStoreOptions {
  /** Milliseconds since the epoch, to turn the token's expiry into a TTL. Default `Date.now`. */
  now?: () => number;
}

export interface RedisReplayStore extends ReplayStore {
  /** Closes the connection the store opened from a URL (a client you passed is left open). */
  close(): Promise<void>;
}

/**
 * A jti is accepted once across every instance that shares the Redis: `SET key 1 NX PX ttl`
 * succeeds for the first presentation only, and Redis forgets the id when the token can no longer
 * be accepted (exp + clock tolerance, as the verifier passes it). The key is the SHA-256 of the
 * jti. When Redis cannot answer the command rejects, and the verifier refuses the request with
 * 503 — fail closed, since accepting it would let a one-time token through twice.
 */
export function createRedisReplayStore(options: RedisReplayStoreOptions): RedisReplayStore {
  if (options?.now !== undefined && typeof options.now !== 'function') throw new TypeError('createRedisReplayStore: now must be a function.');
  const redis = openRedisStore('createRedisReplayStore', options, ['now']);
  const now = options.now ?? Date.now;
  const prefix = `${redis.keyPrefix}jti:`;
  return {
    async checkAndRemember(tokenId, expiresAtSeconds) {
      const ttlMs = Math.max(1, Math.ceil(expiresAtSeconds * 1000 - now()));
      const reply = await redis.run(redis.client.set(prefix + hashKey(tokenId), '1', 'PX', ttlMs, 'NX'));
      return reply === 'OK';
    },
    close: redis.close,
  };
}
