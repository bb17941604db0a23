import { StateCapacityError, type RevokedTokenStore } from '../state/types.js';
import { tooManyRequests } from '../errors/too-many-requests.js';
import type { ClientAuthenticator } from '../client-auth/authenticate-client.js';
import type { GrantDirectory } from '../grants/client-credentials-grant.js';
import { revokedTokenKey, verifyOwnToken } from '../tokens/verify-own-token.js';
import { readTokenManagementRequest } from './token-management-request.js';
import type { TokenRequest } from '../protocol/token-request.js';
import type { EndpointEvents } from '../protocol/endpoint-events.js';
import { jsonResponse, type EndpointResponse } from '../protocol/endpoint-response.js';
import { errorResponse } from '../errors/error-response.js';

export interface RevocationDeps {
  issuer: string;
  authenticate: ClientAuthenticator;
  registry: Pick<GrantDirectory, 'keyRing'>;
  revoked: Pick<RevokedTokenStore, 'revokeToken'>;
  now: () => number;
  events?: EndpointEvents;
}

/**
 * RFC 7009. The client authenticates as at the token endpoint and may revoke only tokens issued
 * to it. Anything else — an unknown, malformed, expired or foreign token — gets the same 200 and
 * changes nothing (§2.2), so the endpoint tells nobody which tokens exist. A revoked token id is
 * kept until the token's own expiry, then dropped. token_type_hint is accepted and not needed:
 * access tokens are the only kind this server issues.
 */
/**
 * The caller already holds its allowance of unexpired revocations (types.ts): this revocation is
 * not recorded, and the caller — nobody else — is told to retry when its oldest one expires.
 * 429 rather than RFC 7009's 503: the server is fine, this client is over its own bound.
 */
function refuseOverAllowance(error: unknown): never {
  if (!(error instanceof StateCapacityError)) throw error;
  throw tooManyRequests('revocations', error.retryAfterMs, 'This client has too many unexpired revoked tokens; retry later.');
}

export function createRevocationEndpoint(deps: RevocationDeps) {
  return async function revocationEndpoint(request: TokenRequest): Promise<EndpointResponse> {
    try {
      const { caller, token } = await readTokenManagementRequest(deps.authenticate, request);
      const claims = await verifyOwnToken({ issuer: deps.issuer, keyRing: deps.registry.keyRing, now: deps.now }, token);
      if (claims && claims.client_id === caller.clientId) {
        const jti = String(claims.jti);
        await deps.revoked.revokeToken(revokedTokenKey(jti), claims.exp! * 1000, caller.clientId).catch(refuseOverAllowance);
        deps.events?.emit('token.revoked', { clientId: caller.clientId, jti, requestId: request.requestId });
      }
      return jsonResponse(200, {});
    } catch (error) {
      deps.events?.emit('revocation.failed', { error, requestId: request.requestId });
      return errorResponse(error);
    }
  };
}
