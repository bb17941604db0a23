import type { JwsSigner } from './jws-signer.js';

/** What goes into an RFC 9068 access token. */
export interface AccessTokenContent {
  issuer: string;
  clientId: string;
  audience: string;
  scopes: readonly string[];
  ttlSeconds: number;
}

export interface IssuedAccessToken {
  accessToken: string;
  expiresIn: number;
  scope: string;
  jti: string;
  expiresAt: number;
}

export interface TokenFactoryDeps {
  now: () => number;
  newJti: () => string;
}

/** Builds the RFC 9068 claims and signs them. Pure apart from the injected clock and id source. */
export async function issueAccessToken(deps: TokenFactoryDeps, signer: JwsSigner, content: AccessTokenContent): Promise<IssuedAccessToken> {
  const iat = Math.floor(deps.now() / 1000);
  const exp = iat + content.ttlSeconds;
  const jti = deps.newJti();
  const scope = content.scopes.join(' ');
  const claims = {
    iss: content.issuer,
    sub: content.clientId,
    aud: content.audience,
    exp,
    iat,
    nbf: iat,
    jti,
    client_id: content.clientId,
    scope,
  };
  const signingInput = `${signer.encodedHeader}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = await signer.sign(signingInput);
  return {
    accessToken: `${signingInput}.${signature.toString('base64url')}`,
    expiresIn: content.ttlSeconds,
    scope,
    jti,
    expiresAt: exp,
  };
}
