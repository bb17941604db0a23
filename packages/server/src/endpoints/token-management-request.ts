import type { RegisteredClient } from '../storage/types.js';
import { invalidRequest } from '../errors/oauth-error.js';
import type { ClientAuthenticator } from '../client-auth/authenticate-client.js';
import { CLIENT_AUTH_PARAMETERS, extractClientCredentials } from '../client-auth/client-credentials.js';
import { rejectRepeatedParameters, rejectUnstorableParameters } from './parameter-checks.js';
import type { TokenRequest } from '../protocol/token-request.js';

/**
 * The common first steps of introspection (RFC 7662 §2.1) and revocation (RFC 7009 §2.1): no
 * repeated parameters, the caller authenticated as at the token endpoint, a `token` present.
 */
export async function readTokenManagementRequest(
  authenticate: ClientAuthenticator,
  request: TokenRequest,
): Promise<{ caller: RegisteredClient; token: string }> {
  rejectRepeatedParameters(request.params, ['token', 'token_type_hint', ...CLIENT_AUTH_PARAMETERS]);
  rejectUnstorableParameters(request.params, ['token', 'token_type_hint']);
  const credentials = extractClientCredentials(request.authorization, request.params, request.clientCertificate);
  const { client: caller } = await authenticate(credentials, request.remoteAddress);
  const token = request.params.get('token');
  if (token === undefined) throw invalidRequest('The token parameter is required.');
  return { caller, token };
}
