import { AuthError, invalidToken, isAuthError } from '../errors.js';
import type { Principal } from '../principal.js';
import type { ReplayStore } from '../replay-store.js';

/**
 * Step 6 (replay): the store remembers the jti for as long as the token is accepted here (exp +
 * clock tolerance). Fails closed: a store that cannot answer refuses the request with 503 —
 * accepting it would let a one-time token be used twice.
 */
export async function checkReplay(store: ReplayStore, principal: Principal, nowSeconds: number, toleranceSeconds: number): Promise<void> {
  if (!principal.tokenId) throw invalidToken('The access token has no jti, so it cannot be checked for replay.', 'missing_claim');
  const acceptedUntil = (principal.expiresAt ?? nowSeconds + 3600) + toleranceSeconds;
  let fresh: boolean;
  try {
    fresh = await store.checkAndRemember(principal.tokenId, acceptedUntil);
  } catch (error) {
    if (isAuthError(error)) throw error;
    throw new AuthError('temporarily_unavailable', 'The token cannot be checked right now.', 'replay_store_unavailable', [], { cause: error });
  }
  if (!fresh) throw invalidToken('The access token was already used.', 'replayed');
}
