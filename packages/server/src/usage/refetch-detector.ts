/**
 * The commonest way to exhaust a quota is a client that asks for a new token per call instead of
 * reusing the one it has. Such a client shows as tokens for the same audience and scope issued
 * while the previous one still had most of its life ahead: that is a refetch. Each instance sees
 * the tokens it issues, so behind a load balancer a refetching client is still caught (every
 * instance sees it refetch, each a share of the time).
 *
 * Memory is bounded: the last token of at most `maxEntries` (client, audience, scope) triples, the
 * first seen forgotten first (forgetting one only misses a refetch, it never invents one). Per
 * token: Map lookups on the cached records' own strings (their hashes are kept), no new key built.
 */
export interface RefetchDetector {
  /** Notes a token issued at `at`; true when it is a refetch. */
  observe(token: { clientId: string; audience: string; scope: string; expiresIn: number }, at: number): boolean;
  /** True when the client refetched within the last `memoryMs`. */
  isRefetching(clientId: string): boolean;
}

export interface RefetchDetectorOptions {
  now: () => number;
  maxEntries?: number;
  /** A token is a refetch when the previous one had more than this share of its life left (default 0.5). */
  remainingShare?: number;
  /** How long a client counts as refetching after its last refetch (default one hour). */
  memoryMs?: number;
}

export function createRefetchDetector(options: RefetchDetectorOptions): RefetchDetector {
  const { now } = options;
  const maxEntries = options.maxEntries ?? 10_000;
  const remainingShare = options.remainingShare ?? 0.5;
  const memoryMs = options.memoryMs ?? 3_600_000;
  // client → audience → scope → its last token; `tracked` counts the triples.
  const lastToken = new Map<string, Map<string, Map<string, { issuedAt: number; expiresAt: number }>>>();
  let tracked = 0;
  const lastRefetch = new Map<string, number>();

  function noteRefetch(clientId: string, at: number) {
    if (!lastRefetch.has(clientId) && lastRefetch.size >= maxEntries) lastRefetch.delete(lastRefetch.keys().next().value!);
    lastRefetch.set(clientId, at);
  }

  return {
    observe({ clientId, audience, scope, expiresIn }, at) {
      let byAudience = lastToken.get(clientId);
      let byScope = byAudience?.get(audience);
      const previous = byScope?.get(scope);
      if (previous) {
        const isRefetch = previous.expiresAt - at > (previous.expiresAt - previous.issuedAt) * remainingShare;
        previous.issuedAt = at;
        previous.expiresAt = at + expiresIn * 1000;
        if (isRefetch) noteRefetch(clientId, at);
        return isRefetch;
      }
      if (tracked >= maxEntries) {
        // Full: the client seen first goes with all it tracked.
        const [oldest, itsAudiences] = lastToken.entries().next().value!;
        for (const scopes of itsAudiences.values()) tracked -= scopes.size;
        lastToken.delete(oldest);
        if (oldest === clientId) byAudience = undefined;
      }
      if (!byAudience) lastToken.set(clientId, (byAudience = new Map()));
      byScope = byAudience.get(audience);
      if (!byScope) byAudience.set(audience, (byScope = new Map()));
      byScope.set(scope, { issuedAt: at, expiresAt: at + expiresIn * 1000 });
      tracked += 1;
      return false;
    },
    isRefetching(clientId) {
      const at = lastRefetch.get(clientId);
      return at !== undefined && now() - at < memoryMs;
    },
  };
}
