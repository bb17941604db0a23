import { certificateThumbprint } from '@m2m-auth/sdk-core';
import { invalidRequest } from '../errors/oauth-error.js';
import type { PresentedCertificate } from '../protocol/token-request.js';
import type { RegisteredClient } from '../storage/types.js';
import type { TokenBinding } from './token-binding.js';

/**
 * RFC 8705 §3 at the token endpoint, after authentication: a client registered with
 * `tls_client_certificate_bound_access_tokens` must present a certificate, and its tokens carry
 * that certificate's thumbprint whichever way it authenticated (the TLS handshake proved it holds
 * the key; no CA need vouch for a certificate used only to bind). A client that did not ask has
 * its tokens bound only where an API requires it (token-binding.ts).
 */
export function certificateBinding(presented: PresentedCertificate | undefined, client: RegisteredClient): TokenBinding | undefined {
  if (!presented) {
    if (client.tlsClientCertificateBoundAccessTokens) {
      throw invalidRequest('This client’s tokens must be certificate-bound (RFC 8705): connect with its TLS client certificate.');
    }
    return undefined;
  }
  const thumbprint = certificateThumbprint(presented.certificate);
  return client.tlsClientCertificateBoundAccessTokens ? { 'x5t#S256': thumbprint } : { presentedCertificate: thumbprint };
}
