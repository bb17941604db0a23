import type { X509Certificate } from 'node:crypto';
import { certificateThumbprint } from '@m2m-auth/sdk-core';
import type { RegisteredClient } from '../storage/types.js';
import type { PresentedCertificate } from '../protocol/token-request.js';
import { FAILED } from './authenticated-client.js';
import { invalidClient } from './client-credentials.js';
import { certificateSubject, DistinguishedNameError, parseDistinguishedName, type CanonicalName } from './distinguished-name.js';

export interface MutualTlsAuthDeps {
  /** The CAs a `tls_client_auth` certificate must be issued by (`--mtls-ca`). */
  trustedCas: readonly X509Certificate[];
  now: () => number;
}

export type MutualTlsMethod = 'tls_client_auth' | 'self_signed_tls_client_auth';

/** RFC 5280 id-kp-clientAuth: a certificate that restricts its extended key usage must allow this. */
const CLIENT_AUTH_USAGE = '1.3.6.1.5.5.7.3.2';

/**
 * RFC 8705 §2: the client authenticates by the certificate of the TLS connection (or its trusted
 * proxy's), and which way depends on how it is registered — `tls_client_auth` (§2.1: a trusted
 * CA issued it, with the registered subject DN or one of the registered DNS names) before
 * `self_signed_tls_client_auth` (§2.2: it is the first certificate of an `x5c` in the client's
 * JWK Set, compared by thumbprint; no CA involved). Returns the method that passed; every failure
 * is the same invalid_client, which check failed going to the log only.
 */
export function authenticateWithCertificate(deps: MutualTlsAuthDeps, client: RegisteredClient, presented: PresentedCertificate): MutualTlsMethod {
  const methods = client.tokenEndpointAuthMethods;
  const refusals: string[] = [];
  if (methods.includes('tls_client_auth')) {
    const refusal = pkiRefusal(deps, registrationOf(client), presented);
    if (refusal === undefined) return 'tls_client_auth';
    refusals.push(`tls_client_auth: ${refusal}`);
  }
  if (methods.includes('self_signed_tls_client_auth')) {
    if (registrationOf(client).selfSigned.has(certificateThumbprint(presented.certificate))) return 'self_signed_tls_client_auth';
    refusals.push('self_signed_tls_client_auth: certificate is not one registered in the client’s jwks (x5c)');
  }
  throw invalidClient(FAILED, refusals.join('; ') || 'client is not registered for mutual TLS authentication', client.clientId);
}

function pkiRefusal(deps: MutualTlsAuthDeps, registration: Registration, presented: PresentedCertificate): string | undefined {
  const { certificate } = presented;
  const isTrusted = presented.via === 'tls' ? presented.isVerifiedByTls : isIssuedByTrustedCa(certificate, deps.trustedCas, deps.now());
  if (!isTrusted) {
    return presented.tlsVerificationError
      ? `certificate refused by the TLS handshake's verification: ${presented.tlsVerificationError}`
      : `certificate (via ${presented.via}) does not chain to a trusted CA, or is outside its validity`;
  }
  if (registration.subject !== undefined) {
    let subject: CanonicalName;
    try {
      subject = certificateSubject(certificate);
    } catch (error) {
      if (!(error instanceof DistinguishedNameError)) throw error;
      return 'certificate subject cannot be read';
    }
    return subject === registration.subject ? undefined : 'certificate subject does not match the registered subject DN';
  }
  if (registration.sanDns.length > 0) {
    // Exact names only: a wildcard in the certificate names no particular client.
    const matches = registration.sanDns.some((name) => certificate.checkHost(name, { subject: 'never', wildcards: false }) !== undefined);
    return matches ? undefined : 'certificate DNS names do not include a registered one';
  }
  return 'client has no registered subject DN or DNS name';
}

/**
 * RFC 8705 §2.1 behind a proxy: the proxy forwards the leaf only, so it must be issued directly
 * by one of the configured CAs (an intermediate CA goes in the --mtls-ca file itself). Checked
 * even though the proxy validated it: a proxy that lets self-signed certificates through for
 * self_signed_tls_client_auth has validated nothing.
 */
export function isIssuedByTrustedCa(certificate: X509Certificate, cas: readonly X509Certificate[], nowMs: number): boolean {
  if (!isWithinValidity(certificate, nowMs)) return false;
  const usage = certificate.keyUsage as string[] | undefined;
  if (usage !== undefined && !usage.includes(CLIENT_AUTH_USAGE)) return false;
  return cas.some((ca) => ca.ca && isWithinValidity(ca, nowMs) && certificate.checkIssued(ca) && isSignedBy(certificate, ca));
}

/** A signature OpenSSL cannot check (an algorithm it does not know) is no signature. */
function isSignedBy(certificate: X509Certificate, ca: X509Certificate): boolean {
  try {
    return certificate.verify(ca.publicKey);
  } catch {
    return false;
  }
}

function isWithinValidity(certificate: X509Certificate, nowMs: number): boolean {
  return Date.parse(certificate.validFrom) <= nowMs && nowMs <= Date.parse(certificate.validTo);
}

interface Registration {
  /** The registered subject DN, canonical; undefined when none (or when it no longer parses). */
  readonly subject: CanonicalName | undefined;
  readonly sanDns: readonly string[];
  /** Thumbprints of the first certificate of each key's x5c: the client's own certificates. */
  readonly selfSigned: ReadonlySet<string>;
}

/** Parsed once per cached client record (the registry hands out the same object until it changes). */
const registrations = new WeakMap<RegisteredClient, Registration>();

function registrationOf(client: RegisteredClient): Registration {
  let registration = registrations.get(client);
  if (!registration) {
    registration = {
      subject: registeredSubject(client.tlsClientAuthSubjectDn),
      sanDns: client.tlsClientAuthSanDns ?? [],
      selfSigned: new Set(
        (client.jwks?.keys ?? []).flatMap((key) => {
          const first = Array.isArray(key.x5c) ? key.x5c[0] : undefined;
          return typeof first === 'string' ? [certificateThumbprint(Buffer.from(first, 'base64'))] : [];
        }),
      ),
    };
    registrations.set(client, registration);
  }
  return registration;
}

function registeredSubject(text: string | undefined): CanonicalName | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDistinguishedName(text);
  } catch (error) {
    // Validated when registered; a row edited by hand into nonsense matches nothing.
    if (error instanceof DistinguishedNameError) return undefined;
    throw error;
  }
}
