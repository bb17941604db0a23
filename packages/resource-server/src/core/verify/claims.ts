import { invalidToken } from '../errors.js';

/** What the claims of an accepted token must say. */
export interface ClaimsPolicy {
  /** The trusted issuers (exact `iss`). */
  readonly issuers: { has(issuer: string): boolean };
  readonly toleranceSeconds: number;
  /** `aud` must name one of these; empty when `allowedClientIds` replaces the audience check. */
  readonly audiences: readonly string[];
  readonly allowedClientIds: readonly string[] | undefined;
  /** Claims that must be present, with this exact value unless undefined. */
  readonly requiredClaims: ReadonlyArray<readonly [string, unknown]>;
}

/**
 * Step 5 (claims): issuer, lifetime (exp, nbf, iat within the clock tolerance), audience or
 * client, required claims. An introspection answer may leave out `iss` and `exp` (RFC 7662 makes
 * them optional); a JWT may not leave out `exp`.
 */
export function checkClaims(claims: Record<string, unknown>, nowSeconds: number, policy: ClaimsPolicy, introspected: boolean): void {
  const tolerance = policy.toleranceSeconds;
  if (!introspected || claims.iss !== undefined) {
    if (typeof claims.iss !== 'string' || !policy.issuers.has(claims.iss))
      throw invalidToken('The access token was issued by an untrusted issuer.', 'wrong_issuer');
  }
  if (typeof claims.exp !== 'number') {
    if (!introspected) throw invalidToken('The access token has no expiry.', 'missing_claim');
  } else if (nowSeconds - tolerance >= claims.exp) {
    throw invalidToken('The access token expired.', 'expired');
  }
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > nowSeconds + tolerance)) {
    throw invalidToken('The access token is not valid yet.', 'not_yet_valid');
  }
  if (claims.iat !== undefined && (typeof claims.iat !== 'number' || claims.iat > nowSeconds + tolerance)) {
    throw invalidToken('The access token was issued in the future.', 'issued_in_future');
  }
  if (policy.audiences.length > 0) {
    const aud = claims.aud;
    const tokenAudiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!tokenAudiences.some((value) => policy.audiences.includes(value as string)))
      throw invalidToken('The access token is not meant for this API.', 'wrong_audience');
  }
  if (policy.allowedClientIds?.length) {
    const clientId = claims.client_id ?? claims.azp ?? claims.appid ?? claims.cid;
    if (typeof clientId !== 'string' || !policy.allowedClientIds.includes(clientId))
      throw invalidToken('The access token was issued to a client this API does not accept.', 'wrong_audience');
  }
  for (const [name, expected] of policy.requiredClaims) {
    const value = claims[name];
    if (value === undefined) throw invalidToken(`The access token has no ${name} claim.`, 'missing_claim');
    if (expected !== undefined && value !== expected) {
      throw invalidToken(`The access token's ${name} claim is not accepted here.`, name === 'token_use' ? 'wrong_token_use' : 'missing_claim');
    }
  }
}
