import { AuthError, isAuthError } from '../errors.js';
import { extractAccessToken, type BearerOptions, type BearerSources, type PresentedToken } from '../bearer-token.js';
import type { Principal } from '../principal.js';
import type { ReportRejection } from './outcome-events.js';
import type { VerifyToken } from './verify-token.js';
import { checkProofOfPossession, type DpopPolicy } from './proof-of-possession.js';
import { checkCertificateBinding, type MtlsPolicy } from './certificate-binding.js';

export type Authenticate = (sources: BearerSources) => Principal | Promise<Principal>;

/**
 * A request's one access token (RFC 6750 §2, or RFC 9449's DPoP scheme), verified, then its proof
 * of possession checked: the client certificate of a certificate-bound token
 * (certificate-binding.ts), the DPoP proof of a key-bound one (proof-of-possession.ts). No token, a
 * malformed or duplicated one, or a refused proof is reported here; what `verify` rejects, it reports itself. A request that used
 * the DPoP scheme (or an API that takes only DPoP) is answered with a DPoP challenge.
 */
export function createAuthenticate(
  verify: VerifyToken,
  bearer: BearerOptions,
  report: ReportRejection,
  possession: { dpop: DpopPolicy; mtls: MtlsPolicy },
  now: () => number,
): Authenticate {
  const { dpop, mtls } = possession;
  const challenged = (error: unknown, presented: PresentedToken | undefined): unknown =>
    (presented?.scheme === 'DPoP' || dpop.required) && isAuthError(error) && !error.dpop && error.code !== 'temporarily_unavailable'
      ? new AuthError(error.code, error.description, error.reason, error.requiredScopes, { cause: error.cause, dpop: { algs: dpop.algs } })
      : error;

  return (sources) => {
    let presented: PresentedToken | undefined;
    try {
      presented = extractAccessToken(sources, bearer);
    } catch (error) {
      return report(challenged(error, undefined), undefined);
    }
    if (presented === undefined) {
      const description = dpop.required ? 'A DPoP-bound access token is required.' : 'A bearer token is required.';
      return report(challenged(new AuthError('missing_token', description, 'missing'), undefined), undefined);
    }
    const { token } = presented;
    const possessed = (principal: Principal): Principal | Promise<Principal> => {
      let checked: Principal | Promise<Principal>;
      try {
        checkCertificateBinding(principal, sources, mtls);
        checked = checkProofOfPossession(principal, presented, sources, dpop, now() / 1000);
      } catch (error) {
        return report(error, token);
      }
      return checked instanceof Promise ? checked.catch((error: unknown) => report(error, token)) : checked;
    };
    let verified: Principal | Promise<Principal>;
    try {
      verified = verify(token);
    } catch (error) {
      throw challenged(error, presented);
    }
    if (verified instanceof Promise) return verified.then(possessed, (error: unknown) => Promise.reject(challenged(error, presented)));
    return possessed(verified);
  };
}
