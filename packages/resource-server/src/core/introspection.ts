import { invalidToken } from './errors.js';
import type { EmitEvent } from './events.js';
import { withIntrospectionCache } from './cached-introspection.js';
import { createMemoryIntrospectionCache, type IntrospectionCache } from './introspection-cache.js';
import { createIntrospectionRequest } from './introspection-request.js';

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
 * RFC 7662 introspection: the request to the endpoint (introspection-request.ts), wrapped in the
 * answer cache (cached-introspection.ts). Fails closed: when the endpoint cannot answer, the
 * request fails with 503, never passes. The cache, on the contrary, fails open to the endpoint: a
 * cache that cannot answer costs an introspection, never a refused request.
 */
export function createIntrospector(
  options: IntrospectionOptions & { endpointUri: () => Promise<string> },
  deps: { fetch: typeof fetch; now: () => number; emit: EmitEvent },
): Introspector {
  const ask = createIntrospectionRequest(options, deps);
  const answerFor = withIntrospectionCache(ask, {
    cache: options.cache ?? createMemoryIntrospectionCache({ maxEntries: options.maxEntries, now: deps.now }),
    activeTtlMs: (options.cacheTtlSeconds ?? 60) * 1000,
    inactiveTtlMs: (options.inactiveTtlSeconds ?? 10) * 1000,
    now: deps.now,
    emit: deps.emit,
  });
  return {
    async introspect(token) {
      const claims = await answerFor(token);
      if (!claims) throw invalidToken('The access token is not active.', 'inactive');
      return claims;
    },
  };
}
