/**
 * Shared security state: short-lived facts every worker and every restart of a host must agree on
 * (a revoked token, a used assertion, a count of failures, a rate-limit bucket, what an opaque
 * access token stands for). Each concern is
 * one small interface, so an adapter (memory, SQLite, later Redis) implements exactly these and
 * passes the one conformance suite in `test/state/state-conformance.ts`.
 *
 * Rules for every adapter:
 * - Every entry expires, and expired entries are purged. An UNEXPIRED entry is never dropped to
 *   make room: eviction would let one client or address erase another's security state (push a
 *   revocation out so a revoked token is active again, or reset a throttle). Each store is bounded
 *   instead, and a full bound refuses the newcomer (`StateCapacityError`), never an existing entry:
 *   - revocations, used assertions and opaque tokens: a per-client allowance (`ClientAllowance`),
 *     counted against the client that owns the record — a client that exhausts it is refused,
 *     nobody else;
 *   - failure counters and rate-limit buckets: `maxEntries` per concern; a new key finds no room
 *     until entries expire (the callers answer 429, see client-auth/failure-limiter.ts and
 *     endpoints/token-rate-limiter.ts).
 * - Operations are atomic across processes sharing the adapter (one statement in SQLite, one
 *   command or script in Redis): two workers can never both "use" the same assertion.
 * - Times are epoch milliseconds from the clock the adapter was created with.
 * - Keys are short, bounded strings built by the caller (it hashes anything a client wrote).
 */

export interface RevokedTokenStore {
  /**
   * Marks a token id revoked until `expiresAt` (the token's own expiry); the entry may be dropped
   * after. It counts against `owner` (the token's client): when that client already holds its
   * allowance of unexpired revocations, nothing is written and `StateCapacityError` is thrown.
   */
  revokeToken(jti: string, expiresAt: number, owner: string): Promise<void>;
  isTokenRevoked(jti: string): Promise<boolean>;
}

export interface AssertionReplayStore {
  /**
   * Records `key` until `expiresAt`. False when it is already recorded and unexpired (a replay).
   * The record counts against `owner` (the asserting client); past its allowance nothing is
   * written and `StateCapacityError` is thrown.
   */
  useOnce(key: string, expiresAt: number, owner: string): Promise<boolean>;
}

/**
 * Opaque access tokens (docs/opaque-tokens.md): what each one stands for, until it expires. Keys
 * and values are made by tokens/opaque-token.ts — the key a keyed hash of the token, the value its
 * claims sealed under a server key — so a store holds no usable token, and one who can write to it
 * cannot mint one. Here they are short strings that expire.
 */
export interface OpaqueTokenStore {
  /**
   * Keeps `value` under `key` until `expiresAt`. It counts against `owner` (the token's client):
   * when that client already holds its allowance of unexpired tokens, nothing is written and
   * `StateCapacityError` is thrown.
   */
  putOpaqueToken(key: string, value: string, expiresAt: number, owner: string): Promise<void>;
  /** The value while it is unexpired; undefined otherwise. */
  getOpaqueToken(key: string): Promise<string | undefined>;
  /** Forgets it at once, for every process sharing the store (revocation). True when an unexpired one was there. */
  deleteOpaqueToken(key: string): Promise<boolean>;
}

export interface AttemptCount {
  count: number;
  /** When the counter resets if nothing more is counted. */
  expiresAt: number;
}

/** Counts events (failed authentications) per key; the count lives `ttlMs` after the last one. */
export interface AttemptCounterStore {
  /**
   * Adds one and extends the counter's life to now + ttlMs (sliding); returns the new count. A new
   * key when `maxEntries` unexpired counters exist throws `StateCapacityError` (nothing written).
   */
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

/**
 * Token buckets for rate limits: `take` removes one token when there is one. A new key when
 * `maxEntries` unexpired buckets exist is refused (`isAllowed: false`, retry when one expires).
 */
export interface TokenBucketStore {
  take(key: string, limit: TokenBucketLimit): Promise<{ isAllowed: boolean; retryAfterMs: number }>;
}

export type UsageGranularity = 'hour' | 'day';
export const USAGE_GRANULARITIES: readonly UsageGranularity[] = ['hour', 'day'];

/** Tokens issued to one client for one API in one UTC hour or day. */
export interface UsageCount {
  clientId: string;
  api: string;
  granularity: UsageGranularity;
  /** Start of the hour or day, epoch ms. */
  start: number;
  tokens: number;
  /** Of those, tokens issued while an earlier one for the same audience and scope had most of its life left (see usage/refetch-detector.ts). */
  refetches: number;
}

export interface UsageQuery {
  granularity: UsageGranularity;
  /** Buckets that start at or after `since` and before `until`. */
  since: number;
  until: number;
  clientId?: string;
  api?: string;
}

/**
 * Tokens issued per client and API, by hour and by day. Written in batches off the token path
 * (usage/usage-recorder.ts), so it holds no security decision: a lost batch costs counts, nothing
 * else. Not bounded by `maxEntries`: a bucket is keyed by an authenticated client and a registered
 * API, so there are at most (clients × APIs × buckets kept) of them, and each expires.
 */
export interface UsageCounterStore {
  /**
   * Adds each count to its bucket (created at zero) and keeps the bucket until at least
   * `expiresAt`, its retention. One call is one batch: adapters write it in one round trip.
   */
  addUsage(counts: readonly (UsageCount & { expiresAt: number })[]): Promise<void>;
  /** The unexpired buckets the query selects, ordered by start, client id, API. */
  readUsage(query: UsageQuery): Promise<UsageCount[]>;
}

/** One window a client's tokens count against: an hour or a day, with its limit. */
export interface QuotaWindow {
  /** The counter, built by the caller from the client and the window's start. */
  key: string;
  limit: number;
  /** When the window ends: its counter is kept until then, and a refusal lasts until then. */
  endsAt: number;
}

/**
 * Per-client token quotas. `consumeQuota` is one atomic increment-and-compare across processes
 * (never read-then-write), so N instances enforce one quota, not N.
 */
export interface QuotaCounterStore {
  /**
   * Counts `tokens` (default 1) against every window and answers each window's count after it.
   * With `isEnforced`, nothing is counted when any window has no room for them (`isCounted`
   * false; the counts are then those that refused it); observing, they are always counted (a
   * batch of them, see usage/client-quota.ts), so a count past the limit is what enforcing would
   * have refused.
   */
  consumeQuota(windows: readonly QuotaWindow[], isEnforced: boolean, tokens?: number): Promise<{ isCounted: boolean; used: number[] }>;
}

/** Everything the server shares between its processes, as one handle. */
export interface SharedState
  extends RevokedTokenStore, AssertionReplayStore, AttemptCounterStore, TokenBucketStore, OpaqueTokenStore, UsageCounterStore, QuotaCounterStore {
  /** `memory`, `sqlite`, later `redis`. */
  readonly kind: string;
  /** Drops expired entries now (adapters also do it by themselves); returns how many went. */
  purgeExpired(): Promise<number>;
  close(): Promise<void>;
}

/** Unexpired records one client may hold in each owned concern. */
export interface ClientAllowance {
  /** Revoked tokens (default 10 000: tokens live at most an hour, so ~3 revocations a second, sustained). */
  revocations: number;
  /** Used client assertions (default 100 000: assertions live at most 5 min, so ~330 authentications a second). */
  assertions: number;
  /**
   * Unexpired opaque access tokens (default 100 000: at the default 15-minute lifetime ~110 tokens
   * a second, sustained; a client that caches its tokens asks for one per lifetime per instance).
   */
  opaqueTokens: number;
}

export const DEFAULT_CLIENT_ALLOWANCE: ClientAllowance = { revocations: 10_000, assertions: 100_000, opaqueTokens: 100_000 };

export interface SharedStateOptions {
  now: () => number;
  /** Bound on unexpired failure counters, and separately on rate-limit buckets (default 100 000). */
  maxEntries?: number;
  /** Per-client bound on revocations, used assertions and opaque tokens; each missing one takes its default. */
  allowance?: Partial<ClientAllowance>;
}

/** What bounds the shared state; `serve` reads it from its configuration. */
export type StateLimits = Pick<SharedStateOptions, 'maxEntries' | 'allowance'>;

export const DEFAULT_MAX_STATE_ENTRIES = 100_000;

export type StateConcern = 'revocations' | 'assertions' | 'opaqueTokens' | 'attempts' | 'buckets';

/**
 * A bound is full: the record was not written. For `revocations`, `assertions` and
 * `opaqueTokens` it is the owner's own allowance; for `attempts` the shared `maxEntries`. `retryAfterMs` is the time until
 * the soonest entry in that bound expires (room is certain then, unless it is taken again).
 */
export class StateCapacityError extends Error {
  override readonly name = 'StateCapacityError';
  constructor(
    readonly concern: StateConcern,
    readonly retryAfterMs: number,
  ) {
    super(`shared state full: ${concern}`);
  }
}

/** The order `readUsage` answers in: by start, client id, API. */
export function byBucket(a: UsageCount, b: UsageCount): number {
  return a.start - b.start || compareText(a.clientId, b.clientId) || compareText(a.api, b.api);
}

/** Code-unit order, the same in every adapter (no locale). */
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The adapters' shared reading of the options. */
export function stateBounds(options: SharedStateOptions): { maxEntries: number; allowance: ClientAllowance } {
  return { maxEntries: options.maxEntries ?? DEFAULT_MAX_STATE_ENTRIES, allowance: { ...DEFAULT_CLIENT_ALLOWANCE, ...options.allowance } };
}

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
