/**
 * Shared security state: short-lived facts every worker and every restart of a host must agree on
 * (a revoked token, a used assertion, a count of failures, a rate-limit bucket). Each concern is
 * one small interface, so an adapter (memory, SQLite, later Redis) implements exactly these and
 * passes the one conformance suite in `test/state/state-conformance.ts`.
 *
 * Rules for every adapter:
 * - Every entry expires: nothing here grows forever, and a flood of new keys is bounded
 *   (`maxEntries`), evicting entries closest to expiry first.
 * - Operations are atomic across processes sharing the adapter (one statement in SQLite, one
 *   command or script in Redis): two workers can never both "use" the same assertion.
 * - Times are epoch milliseconds from the clock the adapter was created with.
 * - Keys are short, bounded strings built by the caller (it hashes anything a client wrote).
 */

export interface RevokedTokenStore {
  /** Marks a token id revoked until `expiresAt` (the token's own expiry); the entry may be dropped after. */
  revokeToken(jti: string, expiresAt: number): Promise<void>;
  isTokenRevoked(jti: string): Promise<boolean>;
}

export interface AssertionReplayStore {
  /** Records `key` until `expiresAt`. False when it is already recorded and unexpired (a replay). */
  useOnce(key: string, expiresAt: number): Promise<boolean>;
}

export interface AttemptCount {
  count: number;
  /** When the counter resets if nothing more is counted. */
  expiresAt: number;
}

/** Counts events (failed authentications) per key; the count lives `ttlMs` after the last one. */
export interface AttemptCounterStore {
  /** Adds one and extends the counter's life to now + ttlMs (sliding); returns the new count. */
  countAttempt(key: string, ttlMs: number): Promise<AttemptCount>;
  /** The current count, or undefined when there is none (or it expired). */
  peekAttempts(key: string): Promise<AttemptCount | undefined>;
}

export interface TokenBucketLimit {
  /** Largest burst. */
  capacity: number;
  /** Tokens added per second, up to `capacity`. */
  refillPerSecond: number;
}

/** Token buckets for rate limits: `take` removes one token when there is one. */
export interface TokenBucketStore {
  take(key: string, limit: TokenBucketLimit): Promise<{ isAllowed: boolean; retryAfterMs: number }>;
}

/** Everything the server shares between its processes, as one handle. */
export interface SharedState extends RevokedTokenStore, AssertionReplayStore, AttemptCounterStore, TokenBucketStore {
  /** `memory`, `sqlite`, later `redis`. */
  readonly kind: string;
  /** Drops expired entries now (adapters also do it by themselves); returns how many went. */
  purgeExpired(): Promise<number>;
  close(): Promise<void>;
}

export interface SharedStateOptions {
  now: () => number;
  /** Bound on entries per concern (default 100 000). */
  maxEntries?: number;
}

export const DEFAULT_MAX_STATE_ENTRIES = 100_000;

/** Token bucket arithmetic shared by the adapters that cannot do it in the database itself. */
export function refillBucket(
  bucket: { tokens: number; updatedAt: number } | undefined,
  limit: TokenBucketLimit,
  at: number,
): { tokens: number; isAllowed: boolean; retryAfterMs: number } {
  const elapsed = bucket ? Math.max(0, at - bucket.updatedAt) : 0;
  const available = bucket ? Math.min(limit.capacity, bucket.tokens + (elapsed / 1000) * limit.refillPerSecond) : limit.capacity;
  if (available >= 1) return { tokens: available - 1, isAllowed: true, retryAfterMs: 0 };
  return { tokens: available, isAllowed: false, retryAfterMs: Math.ceil(((1 - available) / limit.refillPerSecond) * 1000) };
}

/** How long a bucket must be kept: until it would be full again. */
export function bucketLifetimeMs(tokens: number, limit: TokenBucketLimit): number {
  return Math.ceil(((limit.capacity - tokens) / limit.refillPerSecond) * 1000) + 1000;
}
