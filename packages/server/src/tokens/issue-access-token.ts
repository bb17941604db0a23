import type { JwsSigner } from './jws-signer.js';

/** What goes into an access token, whatever its format. */
export interface AccessTokenContent {
  issuer: string;
  clientId: string;
  audience: string;
  scopes: readonly string[];
  ttlSeconds: number;
  /** The principal when it is not the client itself (token exchange: the subject token's). */
  subject?: string;
  /** RFC 8693 §4.1: who acts for the subject, nesting earlier actors. */
  act?: Record<string, unknown>;
  /** Other claims the grant sets (e.g. `subject_issuer` for an external subject). */
  extraClaims?: Record<string, unknown>;
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

/** The claims of an access token (RFC 9068 §2.2), the same for a JWT and an opaque token. */
export interface AccessTokenClaims {
  claims: Record<string, unknown> & { jti: string; exp: number; scope: string; client_id: string; aud: string };
  jti: string;
  exp: number;
  scope: string;
}

/** Builds the RFC 9068 claims. Pure apart from the injected clock and id source. */
export function buildAccessTokenClaims(deps: TokenFactoryDeps, content: AccessTokenContent): AccessTokenClaims {
  const iat = Math.floor(deps.now() / 1000);
  const exp = iat + content.ttlSeconds;
  const jti = deps.newJti();
  const scope = content.scopes.join(' ');
  // Extra claims first: none of them can replace a registered one.
  const claims = {
    ...content.extraClaims,
    iss: content.issuer,
    sub: content.subject ?? content.clientId,
    aud: content.audience,
    exp,
    iat,
    nbf: iat,
    jti,
    client_id: content.clientId,
    scope,
    ...(content.act ? { act: content.act } : {}),
  };
  return { claims, jti, exp, scope };
}

/** An RFC 9068 JWT: the claims, signed. */
export async function issueAccessToken(deps: TokenFactoryDeps, signer: JwsSigner, content: AccessTokenContent): Promise<IssuedAccessToken> {
  const { claims, jti, exp, scope } = buildAccessTokenClaims(deps, content);
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
