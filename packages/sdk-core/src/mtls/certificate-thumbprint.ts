import { createHash, X509Certificate } from 'node:crypto';

/**
 * RFC 8705 §3.1: the base64url SHA-256 thumbprint of a certificate's DER encoding, the
 * `x5t#S256` a certificate-bound token's `cnf` names. The server computes it from the certificate
 * the client presented at the token endpoint and the resource server from the one presented to
 * it; the token is the caller's only if the two are equal.
 */
export function certificateThumbprint(certificate: Uint8Array | X509Certificate): string {
  const der = certificate instanceof X509Certificate ? certificate.raw : certificate;
  return createHash('sha256').update(der).digest('base64url');
}
