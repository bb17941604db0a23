import { createHash } from 'node:crypto';
import { AuthError, invalidToken } from './errors.js';
import type { EmitEvent } from './events.js';
import { createMemoryIntrospectionCache, type IntrospectionAnswer, type IntrospectionCache } from './introspection-cache.js';

export interface IntrospectionOptions {
  /** RFC 7662 endpoint; with an issuer and no endpoint, taken from the issuer's metadata. */
  endpoint?: string;
  clientId: string;
  clientSecret: string;
  /** `fallback` (default): JWTs are verified offline, anything else is introspected. `always`: every token is introspected (revocation takes effect at once). */
  mode?: 'fallback' | 'always';
  /** How long an active answer may be reused (never past the token's exp). Default 60 s. */
  cacheTtlSeconds?: number;
  /** How long an inactive answer is remembered. Default 10 s. */
  inactiveTtlSeconds?: number;
  timeoutMs?: number;
  /** Size of the default in-memory cache. */
  maxEntries?: number;
  /** Where answers are kept; default in memory. A shared one: `createRedisIntrospectionCache` from `@m2m-auth/resource-server/redis`. */
  cache?: IntrospectionCache;
}

export interface Introspector {
  /** Active claims, or throws invalid_token (inactive) / temporarily_unavailable (endpoint down). */
  introspect(token: string): Promise<Record<string, unknown>>;
}

/**
 * RFC 7662 client with a cache keyed by SHA-256 of the token (the token itself is never a key,
 * so a heap dump of the cache — or a look into a shared Redis — holds no usable credential).
 * Fails closed: when the endpoint cannot answer, the request fails with 503, never passes. The
 * cache, on the contrary, fails open to the endpoint: a cache that cannot answer costs an
 * introspection, never a refused request.
 */
export function createIntrospector(
  options: IntrospectionOptions & { endpointUri: () => Promise<string> },
  deps: { fetch: typeof fetch; now: () => number; emit: EmitEvent },
): Introspector {
  const activeTtlMs = (options.cacheTtlSeconds ?? 60) * 1000;
  const inactiveTtlMs = (options.inactiveTtlSeconds ?? 10) * 1000;
  const cache = options.cache ?? createMemoryIntrospectionCache({ maxEntries: options.maxEntries, now: deps.now });
  const inFlight = new Map<string, Promise<IntrospectionAnswer>>();
  const authorization = `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`;

  async function ask(token: string): Promise<IntrospectionAnswer> {
    let response: Response;
    try {
      response = await deps.fetch(await options.endpointUri(), {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
    } catch (error) {
      throw unavailable(messageOf(error), deps.emit);
    }
    if (!response.ok) throw unavailable(`introspection endpoint answered ${response.status}`, deps.emit);
    const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
    if (!body || typeof body.active !== 'boolean') throw unavailable('introspection answer has no active member', deps.emit);
    return body.active ? body : null;
  }

  async function cached(key: string): Promise<IntrospectionAnswer | undefined> {
    try {
      return await cache.get(key);
    } catch (error) {
      deps.emit({ type: 'introspection.cache_failed', message: messageOf(error) });
      return undefined;
    }
  }

  /** Active answers until min(now + cacheTtl, exp), inactive ones for inactiveTtl. */
  function keep(key: string, answer: IntrospectionAnswer): void {
    const now = deps.now();
    const exp = typeof answer?.exp === 'number' ? answer.exp * 1000 : Infinity;
    const ttlMs = Math.floor(answer ? Math.min(activeTtlMs, exp - now) : inactiveTtlMs);
    if (ttlMs < 1) return;
    // Not awaited: the caller has its answer, and a slow or failing cache must not delay it.
    Promise.resolve()
      .then(() => cache.set(key, answer, ttlMs))
      .catch((error: unknown) => deps.emit({ type: 'introspection.cache_failed', message: messageOf(error) }));
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

  return {
    async introspect(token) {
      const key = createHash('sha256').update(token).digest('base64url');
      const hit = await cached(key);
      // null is a cached inactive answer, only undefined is a miss.
      const claims = hit === undefined ? await fresh(key, token) : hit;
      if (!claims) throw invalidToken('The access token is not active.', 'inactive');
      return claims;
    },
  };
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function unavailable(message: string, emit: EmitEvent): AuthError {
  emit({ type: 'introspection.failed', message });
  return new AuthError('temporarily_unavailable', 'The token cannot be checked right now.', 'introspection_unavailable');
}
