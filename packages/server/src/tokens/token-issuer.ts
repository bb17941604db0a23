import type { ApiRecord, SigningAlgorithm } from '../storage/types.js';
import { OAuthError } from '../errors/oauth-error.js';
import type { JwsSigner } from './jws-signer.js';
import { issueAccessToken, type AccessTokenContent, type IssuedAccessToken, type TokenFactoryDeps } from './issue-access-token.js';
import { issueOpaqueToken, type OpaqueTokenKeeping } from './issue-opaque-token.js';

/** The signers a JWT needs (keys/key-ring.ts provides them). */
export interface SigningKeys {
  signerFor(alg: SigningAlgorithm, apiIdentifier: string): JwsSigner | undefined;
}

export interface TokenIssuerDeps extends TokenFactoryDeps {
  keyRing: () => Promise<SigningKeys>;
  opaque: OpaqueTokenKeeping;
}

/** What the API a token is for says about its tokens. */
export type TokenTarget = Pick<ApiRecord, 'identifier' | 'signingAlg' | 'tokenFormat'>;

/**
 * The one place that decides what an access token is: every grant hands its claims here and gets
 * back a token in its API's format — an RFC 9068 JWT signed with the API's key, or an opaque
 * handle whose claims are kept in the shared state. The answer is the same either way
 * (`expires_in`, `scope`, `token_type: Bearer`).
 */
export interface TokenIssuer {
  issue(api: TokenTarget, content: AccessTokenContent): Promise<IssuedAccessToken>;
}

export function createTokenIssuer(deps: TokenIssuerDeps): TokenIssuer {
  return {
    async issue(api, content) {
      if (api.tokenFormat === 'opaque') return issueOpaqueToken(deps, content);
      return issueAccessToken(deps, await signerFor(deps, api), content);
    },
  };
}

/** The active key for the API's algorithm; none is a server fault, never the caller's. */
async function signerFor(deps: Pick<TokenIssuerDeps, 'keyRing'>, api: TokenTarget): Promise<JwsSigner> {
  const signer = (await deps.keyRing()).signerFor(api.signingAlg, api.identifier);
  if (!signer) {
    throw new OAuthError('server_error', 'The server could not complete the request.', {
      detail: `no active ${api.signingAlg} signing key for ${api.identifier}`,
    });
  }
  return signer;
}
