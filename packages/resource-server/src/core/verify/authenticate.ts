import { AuthError } from '../errors.js';
import { extractBearerToken, type BearerOptions, type BearerSources } from '../bearer-token.js';
import type { Principal } from '../principal.js';
import type { ReportRejection } from './outcome-events.js';
import type { VerifyToken } from './verify-token.js';

export type Authenticate = (sources: BearerSources) => Principal | Promise<Principal>;

/**
 * A request's one bearer token (RFC 6750 §2), verified. No token, or a malformed or duplicated
 * one, is reported here; what `verify` rejects, it reports itself.
 */
export function createAuthenticate(verify: VerifyToken, bearer: BearerOptions, report: ReportRejection): Authenticate {
  return (sources) => {
    let token: string | undefined;
    try {
      token = extractBearerToken(sources, bearer);
    } catch (error) {
      return report(error, undefined);
    }
    if (token === undefined) return report(new AuthError('missing_token', 'A bearer token is required.', 'missing'), undefined);
    return verify(token);
  };
}
