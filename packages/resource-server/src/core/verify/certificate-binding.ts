import { timingSafeEqual } from 'node:crypto';
import { invalidToken } from '../errors.js';
import type { BearerSources } from '../bearer-token.js';
import type { PresentedThumbprint } from '../client-certificate.js';
import type { Principal } from '../principal.js';

/** How this API treats certificate-bound tokens (RFC 8705), resolved once when the verifier is made. */
export interface MtlsPolicy {
  /** Only certificate-bound tokens are accepted: any other is refused. */
  readonly required: boolean;
  /** The request's certificate: from the socket, or from a trusted proxy's Client-Cert header (client-certificate.ts). */
  readonly presentedThumbprint: PresentedThumbprint;
}

/**
 * Step 7 (proof of possession, mutual TLS), after the token is verified: a token bound to a
 * certificate (`cnf["x5t#S256"]`, RFC 8705 §3.1) is accepted only when this request presented
 * that certificate (§3.2). The binding is the thumbprint alone: who issued the certificate is the
 * TLS server's or the proxy's business, not this check's. An unbound token passes with one
 * property read, unless the API requires bound tokens.
 */
export function checkCertificateBinding(principal: Principal, sources: BearerSources, policy: MtlsPolicy): Principal {
  const cnf = principal.claims.cnf as Record<string, unknown> | undefined;
  const bound = cnf?.['x5t#S256'];
  if (typeof bound !== 'string') {
    if (policy.required) throw invalidToken('This API accepts only certificate-bound access tokens (mutual TLS).', 'not_certificate_bound');
    return principal;
  }
  const presented = policy.presentedThumbprint(sources);
  if (presented === undefined)
    throw invalidToken('The access token is bound to a client certificate, and the request presented none.', 'client_certificate_missing');
  if (!sameThumbprint(presented, bound))
    throw invalidToken('The client certificate presented does not match the one the access token is bound to.', 'client_certificate_mismatch');
  return principal;
}

function sameThumbprint(presented: string, bound: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(bound);
  return a.length === b.length && timingSafeEqual(a, b);
}
