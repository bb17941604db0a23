import { createHash } from 'node:crypto';
import type { EmitEvent } from './events.js';
import type { IntrospectionAnswer, IntrospectionCache } from './introspection-cache.js';

export interface IntrospectionCachePolicy {
  readonly cache: IntrospectionCache;
  /** An active answer is kept this long at most, and never past the token's exp. */
  readonly activeTtlMs: number;
  readonly inactiveTtlMs: number;
  readonly now: () => number;
  readonly emit: EmitEvent;
}

/**
 * The introspection cache as a wrapper around the request: keyed by the SHA-256 of the token (the
 * token itself is never a key, so a heap dump of the cache — or a look into a shared Redis — holds
 * no usable credential), one request in flight per token, and a cache that fails open: one that
 * cannot answer is a miss (`introspection.cache_failed`), never a refused request.
 */
export function withIntrospectionCache(
  ask: (token: string) => Promise<IntrospectionAnswer>,
  policy: IntrospectionCachePolicy,
): (token: string) => Promise<IntrospectionAnswer> {
  const { cache, emit } = policy;
  const inFlight = new Map<string, Promise<IntrospectionAnswer>>();

  async function cached(key: string): Promise<IntrospectionAnswer | undefined> {
    try {
      return await cache.get(key);
    } catch (error) {
      emit({ type: 'introspection.cache_failed', message: messageOf(error) });
      return undefined;
    }
  }

  /** Active answers until min(now + cacheTtl, exp), inactive ones for inactiveTtl. */
  function keep(key: string, answer: IntrospectionAnswer): void {
    const now = policy.now();
    const exp = typeof answer?.exp === 'number' ? answer.exp * 1000 : Infinity;
    const ttlMs = Math.floor(answer ? Math.min(policy.activeTtlMs, exp - now) : policy.inactiveTtlMs);
    if (ttlMs < 1) return;
    // Not awaited: the caller has its answer, and a slow or failing cache must not delay it.
    Promise.resolve()
      .then(() => cache.set(key, answer, ttlMs))
      .catch((error: unknown) => emit({ type: 'introspection.cache_failed', message: messageOf(error) }));
  }

  function fresh(key: string, token: string): Promise<IntrospectionAnswer> {
    let pending = inFlight.get(key);
    if (!pending) {
      pending = ask(token)
        .then((answer) => {
          keep(key, answer);
          return answer;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }

  return async (token) => {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = await cached(key);
    // null is a cached inactive answer, only undefined is a miss.
    return hit === undefined ? fresh(key, token) : hit;
  };
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
