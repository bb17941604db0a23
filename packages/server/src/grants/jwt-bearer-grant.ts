import { invalidRequest } from '../errors/oauth-error.js';
import type { GrantType } from './grant-type.js';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * RFC 7523 §2.1: a system that holds an identity from a trusted issuer (a CI job, a workload in
 * another cloud) sends that JWT as `assertion` and gets a token here. The assertion is checked
 * exactly as a federated client assertion is (federation/platform-token.ts: the one set of checks)
 * and names the client through its federated credential; the token is then what the client's
 * grant allows, as with client_credentials.
 */
export function createJwtBearerGrant(clientCredentials: GrantType): GrantType {
  return {
    grantType: JWT_BEARER_GRANT,
    parameters: ['assertion', ...clientCredentials.parameters],
    // The federated credential the assertion matches is the permission.
    permittedByPolicy: true,
    credentialsFrom(params) {
      const assertion = params.get('assertion');
      if (assertion === undefined) throw invalidRequest('The assertion parameter is required.');
      return { method: 'federated', profile: 'jwt-bearer', clientId: params.get('client_id'), assertion };
    },
    handle: (client, params) => clientCredentials.handle(client, params),
  };
}
