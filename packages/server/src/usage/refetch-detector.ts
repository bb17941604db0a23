/**
 * The commonest way to exhaust a quota is a client that asks for a new token per call instead of
 * reusing the one it has. Such a client shows as tokens for the same audience and scope issued
 * while the previous one still had most of its life ahead: that is a refetch. Each instance sees
 * the tokens it issues, so behind a load balancer a refetching client is still caught (every
 * instance sees it refetch, each a share of the time).
 *
 * Memory is bounded: the last token of at most `maxEntries` (client, audience, scope) triples, the
 * oldest forgotten first (forgetting one only misses a refetch, it never invents one).
 */
export interface RefetchDetector {
  /** Notes a token issued now; true when it is a refetch. */
  observe(token: { clientId: string; audience: string; scope: string; expiresIn: number }): boolean;
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
  // Insertion order is age order: a re-set key moves to the end (delete, then set).
  const lastToken = new Map<string, { issuedAt: number; expiresAt: number }>();
  const lastRefetch = new Map<string, number>();

  return {
    observe({ clientId, audience, scope, expiresIn }) {
      const at = now();
      const key = `${clientId}\n${audience}\n${scope}`;
      const previous = lastToken.get(key);
      const isRefetch = previous !== undefined && previous.expiresAt - at > (previous.expiresAt - previous.issuedAt) * remainingShare;
      if (previous) lastToken.delete(key);
      else if (lastToken.size >= maxEntries) lastToken.delete(lastToken.keys().next().value!);
      lastToken.set(key, { issuedAt: at, expiresAt: at + expiresIn * 1000 });
      if (isRefetch) {
        lastRefetch.delete(clientId);
        if (lastRefetch.size >= maxEntries) lastRefetch.delete(lastRefetch.keys().next().value!);
        lastRefetch.set(clientId, at);
      }
      return isRefetch;
    },
    isRefetching(clientId) {
      const at = lastRefetch.get(clientId);
      return at !== undefined && now() - at < memoryMs;
    },
  };
}
