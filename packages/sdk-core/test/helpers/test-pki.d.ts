import type { X509Certificate } from 'node:crypto';

/** A certificate and its private key as PEM, and the certificate parsed. */
export interface TestCertificate {
  readonly cert: string;
  readonly key: string;
  readonly x509: X509Certificate;
}

export interface CertificateRequest {
  /** An OpenSSL `-subj` string, e.g. `/CN=orders-service/O=Example`. */
  readonly subject: string;
  readonly sanDns?: readonly string[];
  readonly sanUri?: readonly string[];
  /** IP addresses, e.g. 127.0.0.1 for a server a client reaches by address. */
  readonly sanIp?: readonly string[];
  /** Days of validity (default 1); a negative number makes an already expired certificate. */
  readonly days?: number;
}

/** A self-signed certificate: a CA when `isCa`, else a leaf for `self_signed_tls_client_auth`. */
export function selfSignedCertificate(request: CertificateRequest, isCa?: boolean): TestCertificate;

/** A certificate authority to issue client (and server) certificates from, valid for two days. */
export function createTestCa(subject?: string): TestCertificate;

/** A leaf certificate issued by `ca`, for a client or a server. */
export function issueCertificate(ca: TestCertificate, request: CertificateRequest): TestCertificate;
