import type { RegisteredClient } from '../storage/types.js';
import type { FormParams } from '../protocol/form-params.js';
import type { IssuedAccessToken } from '../tokens/issue-access-token.js';
import type { PresentedCredentials } from '../client-auth/client-credentials.js';

/** What a grant hands back to the token endpoint; rendered into the RFC 6749 §5.1 response. */
export interface GrantResult {
  token: IssuedAccessToken;
  audience: string;
  scopes: readonly string[];
  /** RFC 8693 §2.2.1: the type of the issued token, for grants that must say (token exchange). */
  issuedTokenType?: string;
}

/**
 * A grant is a plug-in (node-oidc-provider's shape): the parameters it reads, and a handler that
 * runs after the client is authenticated. Parameters a grant does not declare are ignored.
 */
export interface GrantType {
  readonly grantType: string;
  readonly parameters: readonly string[];
  handle(client: RegisteredClient, params: FormParams): Promise<GrantResult>;
  /**
   * A grant whose permission is data of its own (an exchange policy, a federated credential)
   * rather than the client's `grant_types`: the endpoint does not ask the client's list.
   */
  readonly permittedByPolicy?: boolean;
  /**
   * For a grant whose own parameter authenticates the client (the JWT bearer grant's `assertion`):
   * the credentials it presents. The endpoint then refuses any other client authentication.
   */
  credentialsFrom?(params: FormParams): PresentedCredentials;
}
