import type { AccessToken } from './access-token.js';
import { isTokenClientError, TokenClientError } from './errors.js';
import type { TokenClientListener } from './events.js';
import { cancelTimer, type CacheEntry } from './token-cache.js';

export interface RefreshAheadPolicy {
  /** Refresh when max(minSeconds, fraction × lifetime) remain, minus up to jitterFraction of that. */
  readonly minSeconds: number;
  readonly fraction: number;
  readonly jitterFraction: number;
  /** A token is not handed out in its last milliseconds (it could expire in transit). */
  readonly marginMs: number;
  /** Refresh on a timer too, not only when a caller asks after the refresh point. */
  readonly background: boolean;
  readonly now: () => number;
  readonly random: () => number;
  readonly emit: TokenClientListener;
  readonly isClosed: () => boolean;
  /** Starts a background refresh of the entry. */
  readonly refresh: (entry: CacheEntry) => void;
}

export interface RefreshAhead {
  /** Keeps a new token in the entry and schedules its refresh. */
  store(entry: CacheEntry, token: AccessToken): void;
  /** Whether a caller served from the cache should start a background refresh now. */
  isDue(entry: CacheEntry, now: number): boolean;
  /**
   * A refresh failed. Stale-if-error: while the token held is still valid it is served (and the
   * refresh retried soon); otherwise the error is thrown as a TokenClientError.
   */
  recover(entry: CacheEntry, error: unknown, background: boolean): AccessToken;
}

/** Step 5 (refresh-ahead): a token is replaced before it expires, so callers never wait for one. */
export function createRefreshAhead(policy: RefreshAheadPolicy): RefreshAhead {
  const { now, emit } = policy;
  return {
    store(entry, token) {
      const t = now();
      const lifetime = Math.max(0, token.expiresAt - t);
      const window = Math.min(lifetime / 2, Math.max(policy.minSeconds * 1000, policy.fraction * lifetime));
      entry.token = token;
      entry.resolved = Promise.resolve(token);
      entry.usableUntil = token.expiresAt - Math.min(policy.marginMs, lifetime / 10);
      // Jitter spreads the refreshes of many instances that started together.
      entry.refreshAt = token.expiresAt - window - policy.random() * policy.jitterFraction * window;
      cancelTimer(entry);
      if (policy.background && !policy.isClosed()) {
        entry.timer = setTimeout(
          () => {
            entry.timer = undefined;
            if (!policy.isClosed() && entry.token === token && entry.inFlight === undefined) policy.refresh(entry);
          },
          Math.max(0, entry.refreshAt - t),
        );
        entry.timer.unref?.();
      }
    },
    isDue: (entry, t) => t >= entry.refreshAt && entry.inFlight === undefined,
    recover(entry, error, background) {
      const err = isTokenClientError(error) ? error : new TokenClientError('provider_unavailable', String(error));
      const t = now();
      const current = entry.token;
      if (current && t < current.expiresAt && err.code !== 'closed') {
        // Stale-if-error: the provider is failing but the token we hold is still valid.
        emit({ type: 'token.refresh_failed', cacheKeyHash: entry.hash, code: err.code, error: err.error, message: err.message });
        entry.refreshAt = t + Math.min(10_000, Math.max(1000, (current.expiresAt - t) / 4));
        if (!background) emit({ type: 'token.stale_served', cacheKeyHash: entry.hash, expiresAt: current.expiresAt });
        return current;
      }
      if (background) emit({ type: 'token.refresh_failed', cacheKeyHash: entry.hash, code: err.code, error: err.error, message: err.message });
      throw err;
    },
  };
}
