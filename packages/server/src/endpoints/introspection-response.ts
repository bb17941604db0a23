import type { SigningAlgorithm } from '../storage/types.js';
import { OAuthError } from '../errors/oauth-error.js';
import { signJws, type JwsSigner } from '../tokens/jws-signer.js';
import { jsonResponse, type EndpointResponse } from '../protocol/endpoint-response.js';

/** RFC 9701 §4: the media type a resource server asks for (and gets) a signed answer with. */
export const INTROSPECTION_JWT_MEDIA_TYPE = 'application/token-introspection+jwt';
/** Signed with the server-wide key of this algorithm, which always exists (discovery lists it). */
export const INTROSPECTION_SIGNING_ALGS: readonly SigningAlgorithm[] = ['RS256'];

export interface IntrospectionSigning {
  issuer: string;
  keyRing: () => Promise<{ signerFor(alg: SigningAlgorithm, apiIdentifier: string): JwsSigner | undefined }>;
  now: () => number;
}

/**
 * An RFC 7662 answer, as JSON — or, when the request's Accept asks for
 * `application/token-introspection+jwt`, as a JWT signed with the server's key (RFC 9701): `typ`
 * `token-introspection+jwt`, `iss` this server, `aud` the calling client, `iat`, and the answer as
 * `token_introspection`. A resource server that keeps answers (or passes them on) can then prove
 * where they came from. No `sub` or `exp` at the top: the answer must never pass for an access token.
 */
export async function introspectionResponse(
  signing: IntrospectionSigning,
  request: { accept?: string | undefined },
  callerId: string,
  answer: Record<string, unknown>,
): Promise<EndpointResponse> {
  if (!asksForJwt(request.accept)) return jsonResponse(200, answer);
  const signer = (await signing.keyRing()).signerFor(INTROSPECTION_SIGNING_ALGS[0]!, '');
  if (!signer) {
    throw new OAuthError('server_error', 'The server could not complete the request.', { detail: 'no active RS256 key to sign an introspection answer' });
  }
  const jwt = await signJws(signer, 'token-introspection+jwt', {
    iss: signing.issuer,
    aud: callerId,
    iat: Math.floor(signing.now() / 1000),
    token_introspection: answer,
  });
  return { status: 200, headers: { 'content-type': INTROSPECTION_JWT_MEDIA_TYPE }, body: jwt };
}

/** Whether an Accept header names the JWT answer with a quality above zero (RFC 9110 §12.5.1). */
export function asksForJwt(accept: string | undefined): boolean {
  if (accept === undefined || !accept.includes(INTROSPECTION_JWT_MEDIA_TYPE)) return false;
  return accept.split(',').some((range) => {
    const [type, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type !== INTROSPECTION_JWT_MEDIA_TYPE) return false;
    const quality = parameters.find((parameter) => parameter.startsWith('q='));
    return quality === undefined || Number(quality.slice(2)) > 0;
  });
}
