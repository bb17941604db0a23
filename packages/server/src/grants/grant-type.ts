import type { RegisteredClient } from '../storage/types.js';
import type { FormParams } from '../endpoints/form-params.js';
import type { IssuedAccessToken } from '../tokens/issue-access-token.js';

/** What a grant hands back to the token endpoint; rendered into the RFC 6749 §5.1 response. */
export interface GrantResult {
  token: IssuedAccessToken;
  audience: string;
  scopes: readonly string[];
}

/**
 * A grant is a plug-in (node-oidc-provider's shape): the parameters it reads, and a handler that
 * runs after the client is authenticated. Parameters a grant does not declare are ignored.
 */
export interface GrantType {
  readonly grantType: string;
  readonly parameters: readonly string[];
  handle(client: RegisteredClient, params: FormParams): Promise<GrantResult>;
}
