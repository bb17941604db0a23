import type { JWTPayload } from 'jose';
import type { OpaqueTokenStore } from '../state/types.js';
import { verifyOwnToken, type OwnTokenDeps } from './verify-own-token.js';
import { hasOpaqueTokenPrefix, isWellFormedOpaqueToken, opaqueTokenKey, openSealedClaims } from './opaque-token-format.js';

/** One of our access tokens, read: its claims, and for an opaque token the key it is kept under. */
export type OwnToken = { format: 'jwt'; claims: JWTPayload } | { format: 'opaque'; claims: JWTPayload; key: string };

export interface OwnTokenReadDeps extends OwnTokenDeps {
  opaque: { store: Pick<OpaqueTokenStore, 'getOpaqueToken'>; pepper: Buffer };
}

/**
 * The claims of an unexpired access token we issued, in either format; undefined for anything
 * else (introspection and revocation answer every other string alike, RFC 7662 §2.2, RFC 7009
 * §2.2). A JWT is verified against the published keys; an opaque token is looked up only when its
 * prefix, length and checksum say we could have issued it, so a typo or a guessed string costs no
 * read of the shared state.
 */
export async function readOwnToken(deps: OwnTokenReadDeps, token: string): Promise<OwnToken | undefined> {
  if (!hasOpaqueTokenPrefix(token)) {
    const claims = await verifyOwnToken(deps, token);
    return claims && { format: 'jwt', claims };
  }
  if (!isWellFormedOpaqueToken(token)) return undefined;
  const { pepper, store } = deps.opaque;
  const key = opaqueTokenKey(pepper, token);
  const sealed = await store.getOpaqueToken(key);
  const claims = sealed === undefined ? undefined : openSealedClaims(pepper, key, sealed);
  if (!claims || claims.iss !== deps.issuer) return undefined;
  // The store forgets a token at its expiry by its own clock; the claims say so too, to the second.
  const nowSeconds = deps.now() / 1000;
  if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) return undefined;
  if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds) return undefined;
  return { format: 'opaque', claims, key };
}
