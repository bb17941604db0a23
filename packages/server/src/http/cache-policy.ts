/**
 * How long caches may keep an answer, decided per route class in this one place (as
 * node-oidc-provider does with one no-store middleware): a route names its class in its config,
 * and every answer without one — token, introspection and revocation answers (RFC 6749 §5.1),
 * errors, health, metrics, the admin API — is `no-store`. Answers written on the raw socket
 * before a route exists use `cacheHeaders('no-store')` too.
 */
export type CachePolicy = 'no-store' | 'no-cache' | { publicMaxAgeSeconds: number; immutable?: boolean };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's cache class; default `no-store`. */
    cache?: CachePolicy;
  }
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;
const NO_CACHE = { 'cache-control': 'no-cache' } as const;

export function cacheHeaders(policy: CachePolicy = 'no-store'): Record<string, string> {
  if (policy === 'no-store') return NO_STORE;
  if (policy === 'no-cache') return NO_CACHE;
  // immutable: a content-hashed name never changes content, so browsers need not even revalidate on reload.
  return { 'cache-control': `public, max-age=${policy.publicMaxAgeSeconds}${policy.immutable ? ', immutable' : ''}` };
}
