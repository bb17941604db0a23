import type { JWTPayload } from 'jose';
import type { RegisteredClient } from '../storage/types.js';
import type { OpaqueTokenStore, RevokedTokenStore } from '../state/types.js';
import type { ClientAuthenticator, ClientDirectory } from '../client-auth/authenticate-client.js';
import type { GrantDirectory } from '../grants/client-credentials-grant.js';
import { readOwnToken } from '../tokens/read-own-token.js';
import { tokenStillStands } from '../tokens/token-standing.js';
import { readTokenManagementRequest } from './token-management-request.js';
import { ANY_API } from '../protocol/limits.js';
import type { TokenRequest } from '../protocol/token-request.js';
import type { EndpointEvents } from '../protocol/endpoint-events.js';
import type { EndpointResponse } from '../protocol/endpoint-response.js';
import { errorResponse } from '../errors/error-response.js';
import { introspectionResponse } from './introspection-response.js';

export interface IntrospectionDeps {
  issuer: string;
  authenticate: ClientAuthenticator;
  registry: Pick<ClientDirectory, 'client'> & Pick<GrantDirectory, 'grant' | 'keyRing'>;
  revoked: Pick<RevokedTokenStore, 'isTokenRevoked'>;
  /** Where opaque tokens are looked up (the shared state), and the pepper of their keys. */
  opaque: { store: Pick<OpaqueTokenStore, 'getOpaqueToken'>; pepper: Buffer };
  now: () => number;
  events?: EndpointEvents;
}

/**
 * RFC 7662. The caller authenticates as a client; it learns that a token is active only when it
 * may introspect tokens for the token's audience (RFC 7662 §4: a client given that permission,
 * typically the resource server). Everyone else, and every token that is not one of ours — a JWT
 * signed by a published key or an opaque token in the shared state, unexpired, unrevoked, of an
 * enabled client whose grant still covers the token's scopes — gets {"active": false}: the same
 * answer, so nothing leaks. JWTs and opaque tokens answer alike, with the same claims; as JSON,
 * or as a signed JWT when the caller asks for one (RFC 9701, introspection-response.ts).
 */
export function createIntrospectionEndpoint(deps: IntrospectionDeps) {
  return async function introspectionEndpoint(request: TokenRequest): Promise<EndpointResponse> {
    try {
      const { caller, token } = await readTokenManagementRequest(deps.authenticate, request);
      const signing = { issuer: deps.issuer, keyRing: deps.registry.keyRing, now: deps.now };
      const answer = (body: Record<string, unknown>) => introspectionResponse(signing, request, caller.clientId, body);
      const claims = (await readOwnToken({ ...signing, opaque: deps.opaque }, token))?.claims;
      if (claims && !mayIntrospect(caller, claims)) {
        deps.events?.emit('introspection.answered', { result: 'not_allowed' });
        return await answer(INACTIVE);
      }
      const isActive = claims !== undefined && (await tokenStillStands(deps, claims));
      deps.events?.emit('introspection.answered', { result: isActive ? 'active' : 'inactive' });
      return await answer(isActive ? { active: true, token_type: 'Bearer', ...claims } : INACTIVE);
    } catch (error) {
      deps.events?.emit('introspection.failed', { error, requestId: request.requestId });
      return errorResponse(error);
    }
  };
}

const INACTIVE = { active: false };

export function mayIntrospect(caller: RegisteredClient, claims: JWTPayload): boolean {
  const allowed = caller.introspectApis ?? [];
  if (allowed.includes(ANY_API)) return true;
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
  return audiences.length > 0 && audiences.every((audience) => allowed.includes(audience));
}
