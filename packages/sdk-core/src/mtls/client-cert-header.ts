import { X509Certificate } from 'node:crypto';

/**
 * The largest `Client-Cert` header value read. A certificate is a few KiB; RSA-4096 with long
 * chains of extensions stays well under this, and anything larger is not worth parsing.
 */
export const MAX_CLIENT_CERT_HEADER_LENGTH = 16_384;

/**
 * RFC 9440 §2.2: the client certificate a TLS-terminating proxy forwards in `Client-Cert`, as a
 * Structured Field Byte Sequence (`:` base64 DER `:`). Undefined when the value is not exactly one
 * well-formed byte sequence holding one parsable certificate.
 *
 * Only the caller knows whether the request came from a proxy it trusts; a header from anyone
 * else must be refused before this is called, since whoever can set it can claim any certificate.
 */
export function parseClientCertHeader(value: string | readonly string[] | undefined): X509Certificate | undefined {
  // RFC 9440 §2.2: one certificate; a repeated header (several field lines) is not one.
  if (typeof value !== 'string' || value.length > MAX_CLIENT_CERT_HEADER_LENGTH) return undefined;
  const match = /^[ \t]*:([A-Za-z0-9+/]*={0,2}):[ \t]*$/.exec(value);
  if (!match?.[1]) return undefined;
  try {
    return new X509Certificate(Buffer.from(match[1], 'base64'));
  } catch {
    return undefined;
  }
}

/** RFC 9440 §2.2: a certificate as a proxy (or a test) puts it in `Client-Cert`. */
export function formatClientCertHeader(certificate: X509Certificate | Uint8Array): string {
  const der = certificate instanceof X509Certificate ? certificate.raw : certificate;
  return `:${Buffer.from(der).toString('base64')}:`;
}
