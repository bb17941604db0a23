import { randomBytes } from 'node:crypto';
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
 *
 * A refused check must leave no trace, or the caller's retry would be refused as a replay: a
 * command that timed out may still be queued (ioredis's offline queue during a reconnect) or
 * resent, and run later. So each check writes its own random value, and when it is refused a
 * delete-if-still-mine follows it on the same connection. Commands on one connection run in
 * order, so the delete runs after the set whenever the set runs at all; the retry (queued behind
 * both) finds nothing. Another client's value is never deleted.
 */
export function createRedisReplayStore(options: RedisReplayStoreOptions): RedisReplayStore {
  if (options?.now !== undefined && typeof options.now !== 'function') throw new TypeError('createRedisReplayStore: now must be a function.');
  const redis = openRedisStore('createRedisReplayStore', options, ['now']);
  const now = options.now ?? Date.now;
  const prefix = `${redis.keyPrefix}jti:`;
  return {
    async checkAndRemember(tokenId, expiresAtSeconds) {
      const ttlMs = Math.max(1, Math.ceil(expiresAtSeconds * 1000 - now()));
      const key = prefix + hashKey(tokenId);
      const mine = randomBytes(16).toString('base64url');
      try {
        return (await redis.run(redis.client.set(key, mine, 'PX', ttlMs, 'NX'))) === 'OK';
      } catch (error) {
        // Not awaited: the answer is 503 now; the undo runs whenever the set does. Its own failure
        // means the connection is gone with the set, so there is nothing to undo.
        redis.client.eval(DELETE_IF_MINE, 1, key, mine).catch(() => undefined);
        throw error;
      }
    },
    close: redis.close,
  };
}

const DELETE_IF_MINE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
