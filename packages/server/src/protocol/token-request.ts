import type { X509Certificate } from 'node:crypto';
import type { FormParams } from './form-params.js';

/**
 * The TLS client certificate a request came with (RFC 8705), when mutual TLS is on: from this
 * server's own TLS handshake, or from a trusted proxy's `Client-Cert` header (RFC 9440).
 */
export interface PresentedCertificate {
  readonly certificate: X509Certificate;
  readonly via: 'tls' | 'proxy';
  /**
   * Over this server's TLS: whether the handshake verified its chain to a trusted mutual-TLS CA
   * (and its dates). A proxy's certificate is checked against those CAs by client authentication.
   */
  readonly isVerifiedByTls: boolean;
  /** Why the handshake did not verify it (OpenSSL's code, e.g. CERT_HAS_EXPIRED), for the log. */
  readonly tlsVerificationError?: string;
}

/** A request to an OAuth endpoint (token, introspection, revocation), free of any framework. */
export interface TokenRequest {
  authorization: string | undefined;
  params: FormParams;
  remoteAddress: string;
  /** The Accept header: introspection answers as a signed JWT when it asks for one (RFC 9701). */
  accept?: string | undefined;
  /** The DPoP header (RFC 9449 §4), when the request has one; several headers arrive joined with commas, and are refused. */
  dpopProof?: string | undefined;
  /** The TLS client certificate (RFC 8705), when mutual TLS is on and the client presented one. */
  clientCertificate?: PresentedCertificate | undefined;
  /** Correlates the log lines of one request. */
  requestId?: string;
}
