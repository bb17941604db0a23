import { StateCapacityError, type OpaqueTokenStore } from '../state/types.js';
import { tooManyRequests } from '../errors/too-many-requests.js';
import { buildAccessTokenClaims, type AccessTokenContent, type IssuedAccessToken, type TokenFactoryDeps } from './issue-access-token.js';
import { generateOpaqueToken, opaqueTokenKey, sealClaims } from './opaque-token-format.js';

/** Where opaque tokens are kept, and the pepper their keys and seals are made with. */
export interface OpaqueTokenKeeping {
  store: Pick<OpaqueTokenStore, 'putOpaqueToken'>;
  pepper: Buffer;
}

/**
 * An opaque access token: a fresh handle, and the claims a JWT would carry stored (sealed, under
 * the handle's keyed hash) until the token expires. One write per token, in the shared state, so
 * every instance answers for it and a revocation reaches them all.
 */
export async function issueOpaqueToken(deps: TokenFactoryDeps & { opaque: OpaqueTokenKeeping }, content: AccessTokenContent): Promise<IssuedAccessToken> {
  const { claims, jti, exp, scope } = buildAccessTokenClaims(deps, content);
  const token = generateOpaqueToken();
  const key = opaqueTokenKey(deps.opaque.pepper, token);
  await deps.opaque.store.putOpaqueToken(key, sealClaims(deps.opaque.pepper, key, claims), exp * 1000, content.clientId).catch(refuseOverAllowance);
  return { accessToken: token, expiresIn: content.ttlSeconds, scope, jti, expiresAt: exp };
}

/**
 * The client already holds its allowance of unexpired opaque tokens (state/types.ts): the caller,
 * nobody else, is told to retry when its oldest one expires. A client that caches its tokens never
 * comes near it.
 */
function refuseOverAllowance(error: unknown): never {
  if (!(error instanceof StateCapacityError)) throw error;
  throw tooManyRequests('opaque_tokens', error.retryAfterMs, 'This client holds too many unexpired access tokens; reuse one until it expires, or retry later.');
}
