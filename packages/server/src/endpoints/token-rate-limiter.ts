import { addressKey } from '../client-auth/address-key.js';
import type { RateLimits } from '../config/rate-limits.js';
import { tooManyRequests } from '../errors/too-many-requests.js';
import type { TokenBucketStore } from '../state/types.js';

/**
 * Optional token-request rate limits, token buckets in the shared state (so N workers enforce one
 * limit, not N). Per address before authentication — a flood is refused before any lookup — and
 * per client after it, so nobody can spend a client's budget without its credentials.
 */
export interface TokenRateLimiter {
  checkAddress(address: string): Promise<void>;
  checkClient(clientId: string): Promise<void>;
}

export function createTokenRateLimiter(buckets: TokenBucketStore, limits: RateLimits): TokenRateLimiter | undefined {
  const { perAddress, perClient } = limits;
  if (!perAddress && !perClient) return undefined;
  return {
    async checkAddress(address) {
      if (!perAddress) return;
      const result = await buckets.take(`ra:${addressKey(address)}`, perAddress);
      if (!result.isAllowed) throw tooManyRequests('address', result.retryAfterMs, 'Too many token requests from this address; retry later.');
    },
    async checkClient(clientId) {
      if (!perClient) return;
      const result = await buckets.take(`rc:${clientId}`, perClient);
      if (!result.isAllowed) throw tooManyRequests('client', result.retryAfterMs, 'Too many token requests for this client; retry later.');
    },
  };
}
