import { invalidToken } from '../errors.js';
import { isJwsAlgorithm, type JwsAlgorithm } from '../jws.js';

/** What a token's protected header must satisfy before any key is looked up. */
export interface HeaderPolicy {
  readonly algorithms: ReadonlySet<JwsAlgorithm>;
  /** RFC 9068 `typ: at+jwt` (or `application/at+jwt`). */
  readonly requireTyp: boolean;
}

const TYP = /^(application\/)?at\+jwt$/i;

/**
 * Step 2 (header policy): no critical extensions (none are understood), an algorithm from the
 * allowlist (so never `none`), and the access-token type. Returns the algorithm to verify with.
 */
export function checkHeader(header: Record<string, unknown>, policy: HeaderPolicy): JwsAlgorithm {
  if (header.crit !== undefined) throw invalidToken('The access token uses unsupported critical header parameters.', 'malformed_token');
  const alg = header.alg;
  if (!isJwsAlgorithm(alg) || !policy.algorithms.has(alg))
    throw invalidToken('The access token is signed with an algorithm this API does not accept.', 'algorithm_not_allowed');
  if (policy.requireTyp && (typeof header.typ !== 'string' || !TYP.test(header.typ))) {
    throw invalidToken('The access token is not an RFC 9068 access token (typ must be at+jwt).', 'wrong_type');
  }
  return alg;
}
