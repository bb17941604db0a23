import type { ApiRecord } from '../storage/types.js';
import { OAuthError } from '../errors/oauth-error.js';

/**
 * What the request proved the caller holds, to bind its token to (RFC 7800 `cnf`): a DPoP key's
 * RFC 7638 thumbprint (`jkt`, RFC 9449 §6.1) and its TLS client certificate's thumbprint
 * (`x5t#S256`, RFC 8705 §3.1). A member left out is left out of the token.
 */
export interface TokenBinding {
  readonly jkt?: string;
  readonly 'x5t#S256'?: string;
  /**
   * The thumbprint of a certificate presented by a client that did not ask for certificate-bound
   * tokens: its token is bound to it only on an API that accepts nothing but sender-constrained
   * tokens (RFC 8705 §3 lets the server decide; a bearer token elsewhere keeps such a client's
   * calls working through resource servers that never see its certificate).
   */
  readonly presentedCertificate?: string;
}

/** Both proofs of one request, as one binding (a token may be bound to a DPoP key and a certificate at once). */
export function combinedBinding(...bindings: (TokenBinding | undefined)[]): TokenBinding | undefined {
  const present = bindings.filter((binding): binding is TokenBinding => binding !== undefined);
  return present.length === 0 ? undefined : Object.assign({}, ...present);
}

/** RFC 9449 §5: a DPoP-bound token is answered as `token_type: DPoP`; any other (RFC 8705 certificate-bound ones too) as Bearer. */
export function tokenTypeOf(binding: TokenBinding | undefined): 'DPoP' | 'Bearer' {
  return binding?.jkt ? 'DPoP' : 'Bearer';
}

/**
 * The token's `cnf` on this API: the binding, when there is one. An API that requires
 * sender-constrained tokens is never issued a bearer token, whoever asks (its resource servers
 * then need not accept bearer tokens at all): a presented certificate binds there.
 */
export function confirmationFor(
  api: Pick<ApiRecord, 'identifier' | 'requireSenderConstrained'>,
  binding: TokenBinding | undefined,
): Readonly<Record<string, string>> | undefined {
  const cnf: Record<string, string> = {};
  if (binding?.jkt) cnf.jkt = binding.jkt;
  if (binding?.['x5t#S256']) cnf['x5t#S256'] = binding['x5t#S256'];
  if (Object.keys(cnf).length > 0) return cnf;
  if (api.requireSenderConstrained) {
    if (binding?.presentedCertificate) return { 'x5t#S256': binding.presentedCertificate };
    throw new OAuthError(
      'invalid_dpop_proof',
      `The API ${api.identifier} accepts only sender-constrained tokens: send a DPoP proof (RFC 9449), or connect with a TLS client certificate where mutual TLS is on (RFC 8705).`,
    );
  }
  return undefined;
}
