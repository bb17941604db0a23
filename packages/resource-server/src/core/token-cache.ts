import type { Principal } from './principal.js';

/**
 * Verified tokens, so a caller reusing its token (as every good client does for its lifetime)
 * costs a map lookup instead of a signature check. Bounded (least recently inserted goes first);
 * an entry is never served past the token's own expiry.
 */
export interface VerifiedTokenCache {
  get(token: string, nowSeconds: number): Principal | undefined;
  set(token: string, principal: Principal, expiresAtSeconds: number): void;
  delete(token: string): void;
  readonly size: number;
}

export function createVerifiedTokenCache(maxEntries: number): VerifiedTokenCache {
  const entries = new Map<string, { principal: Principal; expiresAt: number }>();
  return {
    get(token, nowSeconds) {
      const entry = entries.get(token);
      if (!entry) return undefined;
      if (entry.expiresAt <= nowSeconds) {
        entries.delete(token);
        return undefined;
      }
      return entry.principal;
    },
    set(token, principal, expiresAt) {
      if (entries.size >= maxEntries) {
        // Map iteration order is insertion order: the first key is the oldest entry.
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      entries.set(token, { principal, expiresAt });
    },
    delete: (token) => void entries.delete(token),
    get size() {
      return entries.size;
    },
  };
}
