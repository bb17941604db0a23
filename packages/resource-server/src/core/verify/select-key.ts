import { invalidToken } from '../errors.js';
import type { JwksCache } from '../jwks-cache.js';
import type { DecodedJws, JwsAlgorithm, VerificationKey } from '../jws.js';

/** Where verification keys come from: each trusted issuer's JWKS, and the configured HMAC secret. */
export interface KeySource {
  readonly keySets: ReadonlyMap<string, JwksCache>;
  readonly sharedKey: VerificationKey | undefined;
}

/**
 * Step 3 (key): the issuer picks the key set, so it is checked before any key is fetched — a
 * forged `iss` never makes us call out. HS* use the configured secret (the header policy only
 * allows them with one). A key already in memory is returned directly; a fetch returns a promise.
 */
export function selectKey(jws: DecodedJws, alg: JwsAlgorithm, source: KeySource): VerificationKey | Promise<VerificationKey> {
  const issuer = jws.payload.iss;
  const jwks = typeof issuer === 'string' ? source.keySets.get(issuer) : undefined;
  if (jwks === undefined) throw invalidToken('The access token was issued by an untrusted issuer.', 'wrong_issuer');
  if (alg.startsWith('HS')) return source.sharedKey!;
  const kid = typeof jws.header.kid === 'string' ? jws.header.kid : undefined;
  return jwks.knownKey(kid, alg) ?? jwks.keyFor(kid, alg);
}
