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

/**
 * Entries are filed under the token's last characters (the end of its signature) and the whole
 * token is compared on a hit. Why: V8 hashes a string key in full, and a header read from the
 * socket is a new string on every request — ~0.8 µs for a 750-character RS256 token, which at
 * ~80k cached requests/s was a tenth of the route's cost; the suffix costs ~0.08 µs. Two tokens
 * with the same suffix (only ever crafted: a signature's end is random) share one slot, so the
 * later one replaces the earlier — a cache miss, never a wrong answer.
 */
const KEY_CHARACTERS = 32;
const keyOf = (token: string) => (token.length > KEY_CHARACTERS ? token.slice(-KEY_CHARACTERS) : token);

export function createVerifiedTokenCache(maxEntries: number): VerifiedTokenCache {
  const entries = new Map<string, { token: string; principal: Principal; expiresAt: number }>();
  return {
    get(token, nowSeconds) {
      const key = keyOf(token);
      const entry = entries.get(key);
      if (!entry || entry.token !== token) return undefined;
      if (entry.expiresAt <= nowSeconds) {
        entries.delete(key);
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
      entries.set(keyOf(token), { token, principal, expiresAt });
    },
    delete(token) {
      const key = keyOf(token);
      if (entries.get(key)?.token === token) entries.delete(key);
    },
    get size() {
      return entries.size;
    },
  };
}
