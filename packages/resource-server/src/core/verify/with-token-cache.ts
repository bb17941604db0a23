import type { Principal } from '../principal.js';
import type { VerifiedTokenCache } from '../token-cache.js';
import type { VerifyToken } from './verify-token.js';

/**
 * Offline-verified JWTs are cached until they expire. Introspection answers are not: the
 * introspector keeps its own cache with its shorter TTL, so a revocation is seen in time.
 */
export function isCacheable(principal: Principal): boolean {
  return principal.expiresAt !== undefined && principal.source === 'jwt';
}

/**
 * The verified-token cache as a wrapper around the whole verification: a token verified before
 * and not expired (exp + clock tolerance) is answered from memory, synchronously, with no event.
 */
export function withTokenCache(verify: VerifyToken, cache: VerifiedTokenCache, now: () => number, toleranceSeconds: number): VerifyToken {
  const remember = (token: string, principal: Principal): Principal => {
    if (isCacheable(principal)) cache.set(token, principal, principal.expiresAt! + toleranceSeconds);
    return principal;
  };
  return (token) => {
    const hit = cache.get(token, now() / 1000);
    if (hit) return hit;
    const result = verify(token);
    if (result instanceof Promise) return result.then((principal) => remember(token, principal));
    return remember(token, result);
  };
}
