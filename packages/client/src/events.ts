/**
 * What the client reports, to feed Prometheus or OpenTelemetry without depending on them.
 * No event carries a token or a secret; cache keys appear only as a short hash.
 */
export type TokenClientEvent =
  | { type: 'token.fetched'; cacheKeyHash: string; latencyMs: number; expiresAt: number; attempts: number }
  | { type: 'token.refresh_failed'; cacheKeyHash: string; code: string; error: string | undefined; message: string }
  | { type: 'token.stale_served'; cacheKeyHash: string; expiresAt: number }
  | { type: 'token.retry'; cacheKeyHash: string; attempt: number; delayMs: number; reason: string }
  | { type: 'token.invalidated'; cacheKeyHash: string };

export type TokenClientListener = (event: TokenClientEvent) => void;
