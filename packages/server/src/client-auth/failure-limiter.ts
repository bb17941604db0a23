import { createHash } from 'node:crypto';
import type { OAuthError } from '../errors/oauth-error.js';
import { addressKey } from './address-key.js';
import { tooManyRequests } from '../errors/too-many-requests.js';
import { StateCapacityError, type AttemptCounterStore } from '../state/types.js';

/**
 * Throttles failed client authentications per source address and per (address, client id).
 *
 * It only ever acts on a request whose credentials were already found wrong: a correct credential
 * is always accepted, so nobody can lock a real service out by failing in its name (from its NAT
 * address or anywhere else). Past the threshold a failure answers 429 with a Retry-After that
 * doubles with every further failure (capped), instead of 401; the answer is the same whether the
 * client id exists or not. Counters live in the shared state (every worker, every restart), are
 * keyed by a hash of the client id, expire, and an address already over its limit stops adding
 * per-client keys, so a flood of random client ids cannot grow them.
 */
export interface FailureLimiter {
  /** Records one failed authentication; returns the 429 to send instead when over a limit. */
  recordFailure(address: string, clientId: string): Promise<OAuthError | undefined>;
}

export interface FailureLimits {
  /** Failures of one client id from one address before back-off (default 10). */
  perClient: number;
  /** Failures from one address, any client ids, before back-off (default 100). */
  perAddress: number;
  /** How long failures are remembered after the last one (default 60 s). */
  windowMs: number;
  /** Longest Retry-After (default 15 min). */
  maxBackoffMs: number;
}

export const DEFAULT_FAILURE_LIMITS: FailureLimits = { perClient: 10, perAddress: 100, windowMs: 60_000, maxBackoffMs: 15 * 60_000 };

export function createFailureLimiter(attempts: AttemptCounterStore, limits: Partial<FailureLimits> = {}): FailureLimiter {
  const { perClient, perAddress, windowMs, maxBackoffMs } = { ...DEFAULT_FAILURE_LIMITS, ...limits };
  const backoffMs = (excess: number) => Math.min(maxBackoffMs, windowMs * 2 ** Math.min(excess - 1, 20));

  return {
    async recordFailure(address, clientId) {
      try {
        return await countFailure(address, clientId);
      } catch (error) {
        // No room for a new counter (types.ts: counters are never evicted, or a flood from many
        // addresses could reset another's back-off): this failure is throttled. It only ever
        // touches a request whose credentials were already wrong.
        if (!(error instanceof StateCapacityError)) throw error;
        return tooManyRequests('failures', error.retryAfterMs, 'Too many failed authentication attempts; retry later.');
      }
    },
  };

  async function countFailure(address: string, clientId: string): Promise<OAuthError | undefined> {
    const source = addressKey(address);
    const byAddress = await attempts.peekAttempts(`fa:${source}`);
    const addressExcess = (byAddress?.count ?? 0) + 1 - perAddress;
    const addressCount = await attempts.countAttempt(`fa:${source}`, addressExcess > 0 ? backoffMs(addressExcess) : windowMs);
    let excess = addressCount.count - perAddress;
    if (excess <= 0) {
      const key = `fc:${source}:${createHash('sha256').update(clientId).digest('base64url').slice(0, 22)}`;
      const previous = await attempts.peekAttempts(key);
      const clientExcess = (previous?.count ?? 0) + 1 - perClient;
      excess = (await attempts.countAttempt(key, clientExcess > 0 ? backoffMs(clientExcess) : windowMs)).count - perClient;
    }
    if (excess <= 0) return undefined;
    return tooManyRequests('failures', backoffMs(excess), 'Too many failed authentication attempts; retry later.');
  }
}
