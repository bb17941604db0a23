import {
  bucketLifetimeMs,
  byBucket,
  refillBucket,
  stateBounds,
  StateCapacityError,
  type AttemptCount,
  type SharedState,
  type SharedStateOptions,
  type StateConcern,
  type UsageCount,
} from '../types.js';

/** A full bound is rescanned for expired entries at most this often, so a flood at the bound costs no scan per request. */
const RESCAN_INTERVAL_MS = 1000;

interface Expiring {
  expiresAt: number;
}

/**
 * One process only: for tests and `storage: 'memory'`. Unexpired entries are never evicted (see
 * types.ts): revocations, used assertions and opaque tokens are bounded per owning client,
 * counters and buckets by `maxEntries`, and a full bound refuses the newcomer.
 */
export function createMemoryState(options: SharedStateOptions): SharedState {
  const { now } = options;
  const { maxEntries, allowance } = stateBounds(options);
  const revoked = createOwnedRecords('revocations', allowance.revocations, now);
  const assertions = createOwnedRecords('assertions', allowance.assertions, now);
  const opaqueTokens = createOwnedRecords('opaqueTokens', allowance.opaqueTokens, now);
  const attempts = createBoundedMap<AttemptCount>('attempts', maxEntries, now);
  const buckets = createBoundedMap<{ tokens: number; updatedAt: number; expiresAt: number }>('buckets', maxEntries, now);
  // Keyed by granularity, start, client and API; bounded by the registry (see UsageCounterStore).
  const usage = new Map<string, UsageCount & { expiresAt: number }>();
  const quotas = new Map<string, { count: number; expiresAt: number }>();
  const liveQuota = (key: string) => {
    const counter = quotas.get(key);
    return counter && counter.expiresAt > now() ? counter.count : 0;
  };

  return {
    kind: 'memory',
    async revokeToken(jti, expiresAt, owner) {
      if (expiresAt <= now()) return;
      revoked.record(jti, expiresAt, owner);
    },
    async isTokenRevoked(jti) {
      return revoked.isLive(jti);
    },
    async useOnce(key, expiresAt, owner) {
      if (assertions.isLive(key)) return false;
      assertions.record(key, expiresAt, owner);
      return true;
    },
    async putOpaqueToken(key, value, expiresAt, owner) {
      if (expiresAt <= now()) return;
      // A new token never meets a live key (keys are hashes of 256 random bits): a clash replaces.
      opaqueTokens.forget(key);
      opaqueTokens.record(key, expiresAt, owner, value);
    },
    async getOpaqueToken(key) {
      return opaqueTokens.isLive(key) ? opaqueTokens.valueOf(key) : undefined;
    },
    async deleteOpaqueToken(key) {
      const wasLive = opaqueTokens.isLive(key);
      opaqueTokens.forget(key);
      return wasLive;
    },
    async countAttempt(key, ttlMs) {
      const previous = attempts.live(key);
      const next = { count: (previous?.count ?? 0) + 1, expiresAt: now() + ttlMs };
      attempts.set(key, next);
      return { ...next };
    },
    async peekAttempts(key) {
      const value = attempts.live(key);
      return value && { ...value };
    },
    async take(key, limit) {
      const at = now();
      const result = refillBucket(buckets.live(key), limit, at);
      try {
        buckets.set(key, { tokens: result.tokens, updatedAt: at, expiresAt: at + bucketLifetimeMs(result.tokens, limit) });
      } catch (error) {
        if (error instanceof StateCapacityError) return { isAllowed: false, retryAfterMs: error.retryAfterMs };
        throw error;
      }
      return { isAllowed: result.isAllowed, retryAfterMs: result.retryAfterMs };
    },
    async addUsage(counts) {
      const at = now();
      for (const count of counts) {
        const key = `${count.granularity}\n${count.start}\n${count.clientId}\n${count.api}`;
        const bucket = usage.get(key);
        if (bucket && bucket.expiresAt > at) {
          bucket.tokens += count.tokens;
          bucket.refetches += count.refetches;
          bucket.expiresAt = Math.max(bucket.expiresAt, count.expiresAt);
        } else usage.set(key, { ...count });
      }
    },
    async readUsage(query) {
      const at = now();
      const selected: UsageCount[] = [];
      for (const { expiresAt, ...count } of usage.values()) {
        if (expiresAt > at && count.granularity === query.granularity && count.start >= query.since && count.start < query.until) {
          if ((query.clientId === undefined || count.clientId === query.clientId) && (query.api === undefined || count.api === query.api)) selected.push(count);
        }
      }
      return selected.sort(byBucket);
    },
    async consumeQuota(windows, isEnforced, tokens = 1) {
      const used = windows.map((window) => liveQuota(window.key));
      if (isEnforced && windows.some((window, at) => used[at]! + tokens > window.limit)) return { isCounted: false, used };
      windows.forEach((window, at) => quotas.set(window.key, { count: (used[at] = used[at]! + tokens), expiresAt: window.endsAt }));
      return { isCounted: true, used };
    },
    async purgeExpired() {
      const at = now();
      return (
        revoked.purge(at) + assertions.purge(at) + opaqueTokens.purge(at) + attempts.purge(at) + buckets.purge(at) + purgeMap(usage, at) + purgeMap(quotas, at)
      );
    },
    async close() {
      for (const store of [revoked, assertions, opaqueTokens, attempts, buckets, usage, quotas]) store.clear();
    },
  };
}

/** Entries of one concern, at most `max` unexpired; a new key finds no room when full. */
function createBoundedMap<T extends Expiring>(concern: StateConcern, max: number, now: () => number) {
  const entries = new Map<string, T>();
  let nextScanAt = 0;
  const purge = (at: number) => purgeMap(entries, at);
  return {
    live(key: string): T | undefined {
      const value = entries.get(key);
      if (value === undefined) return undefined;
      if (value.expiresAt > now()) return value;
      entries.delete(key);
      return undefined;
    },
    set(key: string, value: T) {
      if (!entries.has(key) && entries.size >= max) {
        // Full: expired entries go first. A flood at the bound rescans at most once a second and
        // only once the soonest entry can have expired, never once per request.
        const at = now();
        if (at >= nextScanAt) {
          purge(at);
          nextScanAt = at + (entries.size >= max ? Math.max(RESCAN_INTERVAL_MS, soonest(entries.values(), at)) : RESCAN_INTERVAL_MS);
        }
        if (entries.size >= max) throw new StateCapacityError(concern, nextScanAt - at);
      }
      entries.set(key, value);
    },
    purge,
    clear: () => entries.clear(),
  };
}

/**
 * Records owned by a client (revocations, used assertions, opaque tokens with their value): at
 * most `allowance` unexpired per owner. A record is never dropped before it expires, unless its
 * owner's token is revoked; the owner's own next one is refused.
 */
function createOwnedRecords(concern: StateConcern, allowance: number, now: () => number) {
  const records = new Map<string, { expiresAt: number; owner: string; value?: string }>();
  const byOwner = new Map<string, { keys: Map<string, number>; nextScanAt: number }>();
  const forget = (key: string) => {
    const record = records.get(key);
    if (!record) return;
    records.delete(key);
    const owned = byOwner.get(record.owner);
    owned?.keys.delete(key);
    if (owned?.keys.size === 0) byOwner.delete(record.owner);
  };
  return {
    isLive(key: string): boolean {
      const record = records.get(key);
      if (record === undefined) return false;
      if (record.expiresAt > now()) return true;
      forget(key);
      return false;
    },
    valueOf: (key: string) => records.get(key)?.value,
    forget,
    /** Adds the record, or keeps the later expiry of a live one (no new room needed for it). */
    record(key: string, expiresAt: number, owner: string, value?: string) {
      const at = now();
      const existing = records.get(key);
      if (existing && existing.expiresAt > at) {
        existing.expiresAt = Math.max(existing.expiresAt, expiresAt);
        byOwner.get(existing.owner)?.keys.set(key, existing.expiresAt);
        return;
      }
      forget(key);
      let owned = byOwner.get(owner);
      if (owned && owned.keys.size >= allowance) {
        // Full: its own expired records go first. Until the soonest of them expires nothing can
        // free up, so a client flooding at its allowance costs no scan per refused request.
        if (at < owned.nextScanAt) throw new StateCapacityError(concern, owned.nextScanAt - at);
        for (const [ownedKey, ownedExpiry] of owned.keys) if (ownedExpiry <= at) forget(ownedKey);
        owned = byOwner.get(owner);
        if (owned && owned.keys.size >= allowance) {
          const retryAfterMs = soonest(owned.keys.values(), at);
          owned.nextScanAt = at + retryAfterMs;
          throw new StateCapacityError(concern, retryAfterMs);
        }
      }
      if (!owned) byOwner.set(owner, (owned = { keys: new Map(), nextScanAt: 0 }));
      owned.keys.set(key, expiresAt);
      records.set(key, value === undefined ? { expiresAt, owner } : { expiresAt, owner, value });
    },
    purge(at: number): number {
      let dropped = 0;
      for (const [key, record] of records) {
        if (record.expiresAt <= at) {
          forget(key);
          dropped += 1;
        }
      }
      return dropped;
    },
    clear() {
      records.clear();
      byOwner.clear();
    },
  };
}

/** Drops the expired entries of a map; returns how many went. */
function purgeMap(entries: Map<string, Expiring>, at: number): number {
  let dropped = 0;
  for (const [key, value] of entries) {
    if (value.expiresAt <= at) {
      entries.delete(key);
      dropped += 1;
    }
  }
  return dropped;
}

/** Milliseconds until the first of these expiries (at least 1). */
function soonest(expiries: Iterable<number | Expiring>, at: number): number {
  let first = Infinity;
  for (const value of expiries) first = Math.min(first, typeof value === 'number' ? value : value.expiresAt);
  return Math.max(1, first - at);
}
