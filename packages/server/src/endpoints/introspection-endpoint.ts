import { decodeProtectedHeader, jwtVerify } from 'jose';
import { invalidRequest } from '../errors/oauth-error.js';
import { authenticateClient, type ClientAuthDeps } from '../client-auth/authenticate-client.js';
import { CLIENT_AUTH_PARAMETERS, extractClientCredentials } from '../client-auth/client-credentials.js';
import type { RegistryView } from '../runtime/registry-view.js';
import { rejectRepeatedParameters } from './form-params.js';
import type { TokenRequest } from './token-endpoint.js';
import { errorResponse, jsonResponse, NO_STORE, type EndpointResponse } from './endpoint-response.js';

export interface IntrospectionDeps {
  issuer: string;
  clientAuth: ClientAuthDeps;
  registry: Pick<RegistryView, 'keyRing' | 'client'>;
  now: () => number;
  onError?: (error: unknown, context: { requestId: string | undefined }) => void;
}

const INACTIVE = jsonResponse(200, { active: false }, { ...NO_STORE });

/**
 * RFC 7662. The caller must authenticate as a client. A token is active when it is one of ours,
 * correctly signed by a key still published, unexpired, and its client still exists and is
 * enabled — the last check is what introspection adds over offline verification.
 */
export function createIntrospectionEndpoint(deps: IntrospectionDeps) {
  return async function introspectionEndpoint(request: TokenRequest): Promise<EndpointResponse> {
    try {
      rejectRepeatedParameters(request.params, ['token', 'token_type_hint', ...CLIENT_AUTH_PARAMETERS]);
      const credentials = extractClientCredentials(request.authorization, request.params);
      await authenticateClient(deps.clientAuth, credentials, request.remoteAddress);
      const token = request.params.get('token');
      if (token === undefined) throw invalidRequest('The token parameter is required.');
      const claims = await verifyOwnToken(deps, token);
      if (!claims) return { ...INACTIVE, headers: { ...NO_STORE } };
      const client = await deps.registry.client(String(claims.client_id));
      if (!client?.isEnabled) return { ...INACTIVE, headers: { ...NO_STORE } };
      return jsonResponse(200, { active: true, token_type: 'Bearer', ...claims }, { ...NO_STORE });
    } catch (error) {
      deps.onError?.(error, { requestId: request.requestId });
      return errorResponse(error, { ...NO_STORE });
    }
  };
}

async function verifyOwnToken(deps: IntrospectionDeps, token: string) {
  try {
    const { kid } = decodeProtectedHeader(token);
    const key = kid ? (await deps.registry.keyRing()).verificationKey(kid) : undefined;
    if (!key) return undefined;
    const { payload } = await jwtVerify(token, key.key, {
      algorithms: [key.alg],
      issuer: deps.issuer,
      typ: 'at+jwt',
      currentDate: new Date(deps.now()),
      ...(key.apiIdentifier ? { audience: key.apiIdentifier } : {}),
    });
    return payload;
  } catch {
    // Anything that is not a valid token of ours is simply inactive (RFC 7662 §2.2).
    return undefined;
  }
}
