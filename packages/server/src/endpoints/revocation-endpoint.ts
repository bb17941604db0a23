import { StateCapacityError, type OpaqueTokenStore, type RevokedTokenStore } from '../state/types.js';
import { tooManyRequests } from '../errors/too-many-requests.js';
import type { ClientAuthenticator } from '../client-auth/authenticate-client.js';
import type { GrantDirectory } from '../grants/client-credentials-grant.js';
import { revokedTokenKey } from '../tokens/verify-own-token.js';
import { readOwnToken, type OwnToken } from '../tokens/read-own-token.js';
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
  /** Opaque tokens are revoked by deleting them from the shared state. */
  opaque: { store: Pick<OpaqueTokenStore, 'getOpaqueToken' | 'deleteOpaqueToken'>; pepper: Buffer };
  now: () => number;
  events?: EndpointEvents;
  /** Revoke only tokens for this API (the admin listener's copy: admin tokens); any other is answered as foreign. */
  onlyAudience?: string;
}

/**
 * The caller already holds its allowance of unexpired revocations (types.ts): this revocation is
 * not recorded, and the caller — nobody else — is told to retry when its oldest one expires.
 * 429 rather than RFC 7009's 503: the server is fine, this client is over its own bound.
 */
function refuseOverAllowance(error: unknown): never {
  if (!(error instanceof StateCapacityError)) throw error;
  throw tooManyRequests('revocations', error.retryAfterMs, 'This client has too many unexpired revoked tokens; retry later.');
}

/** A JWT's id joins the revoked ones until it expires; an opaque token is deleted, so no instance knows it any more. */
async function revoke(deps: RevocationDeps, own: OwnToken, clientId: string): Promise<void> {
  if (own.format === 'opaque') {
    await deps.opaque.store.deleteOpaqueToken(own.key);
    return;
  }
  await deps.revoked.revokeToken(revokedTokenKey(String(own.claims.jti)), own.claims.exp! * 1000, clientId).catch(refuseOverAllowance);
}

function isForAudience(own: OwnToken, audience: string | undefined): boolean {
  if (audience === undefined) return true;
  const { aud } = own.claims;
  return Array.isArray(aud) ? aud.includes(audience) : aud === audience;
}

/**
 * RFC 7009. The client authenticates as at the token endpoint and may revoke only tokens issued
 * to it. Anything else — an unknown, malformed, expired or foreign token — gets the same 200 and
 * changes nothing (§2.2), so the endpoint tells nobody which tokens exist. A revoked JWT's id is
 * kept until the token's own expiry, then dropped; a revoked opaque token is deleted from the
 * shared state, so it is unknown everywhere at once. token_type_hint is accepted and not needed:
 * access tokens are the only kind this server issues.
 */
export function createRevocationEndpoint(deps: RevocationDeps) {
  return async function revocationEndpoint(request: TokenRequest): Promise<EndpointResponse> {
    try {
      const { caller, token } = await readTokenManagementRequest(deps.authenticate, request);
      const own = await readOwnToken({ issuer: deps.issuer, keyRing: deps.registry.keyRing, now: deps.now, opaque: deps.opaque }, token);
      if (own && own.claims.client_id === caller.clientId && isForAudience(own, deps.onlyAudience)) {
        await revoke(deps, own, caller.clientId);
        deps.events?.emit('token.revoked', { clientId: caller.clientId, jti: String(own.claims.jti), requestId: request.requestId });
      }
      return jsonResponse(200, {});
    } catch (error) {
      deps.events?.emit('revocation.failed', { error, requestId: request.requestId });
      return errorResponse(error);
    }
  };
}
