/**
 * Remembers token ids (`jti`) until their tokens expire, to refuse a token presented twice where
 * an API requires one-time tokens. In memory here; `@m2m-auth/resource-server/redis` shares one
 * across instances. A store that throws or rejects makes the verifier refuse the request with 503
 * (fail closed).
 */
export interface ReplayStore {
  /**
   * Records the id until `expiresAtSeconds` (the token's exp plus the verifier's clock tolerance:
   * after it the token is refused as expired anyway); resolves false when it was already recorded
   * (a replay).
   */
  checkAndRemember(tokenId: string, expiresAtSeconds: number): boolean | Promise<boolean>;
}

export function createMemoryReplayStore(options: { now?: () => number; maxEntries?: number } = {}): ReplayStore {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 100_000;
  const seen = new Map<string, number>();
  return {
    checkAndRemember(tokenId, expiresAt) {
      const nowSeconds = now() / 1000;
      const previous = seen.get(tokenId);
      if (previous !== undefined && previous > nowSeconds) return false;
      if (seen.size >= maxEntries) {
        for (const [id, exp] of seen) if (exp <= nowSeconds) seen.delete(id);
        // Still full of live ids: refuse rather than forget one (forgetting would allow a replay).
        if (seen.size >= maxEntries) return false;
      }
      seen.set(tokenId, expiresAt);
      return true;
    },
  };
}
