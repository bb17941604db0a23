import { X509Certificate } from 'node:crypto';
import type { ClientAuthMethod, ClientRecord } from '../storage/types.js';
import { validationFailed } from '../errors/admin-error.js';
import { DistinguishedNameError, parseDistinguishedName } from '../client-auth/distinguished-name.js';

/** A client's registration as a record, a change or a config document has it (null or absent: none). */
export interface TlsRegistrationFields extends Pick<ClientRecord, 'jwks'> {
  tokenEndpointAuthMethods: readonly ClientAuthMethod[];
  tlsClientAuthSubjectDn?: string | null | undefined;
  tlsClientAuthSanDns?: readonly string[] | null | undefined;
  tlsClientCertificateBoundAccessTokens?: boolean | undefined;
}

/** DNS names a tls_client_auth client may be known by. */
export const MAX_TLS_SAN_DNS = 20;

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** An RFC 4514 subject DN that parses (kept as written: it is compared normalised, client-auth/distinguished-name.ts). */
export function validateSubjectDn(value: unknown): string {
  const field = 'tls_client_auth_subject_dn';
  if (typeof value !== 'string') throw validationFailed(field, `${field} must be an RFC 4514 distinguished name, e.g. CN=orders,O=Example`);
  try {
    parseDistinguishedName(value);
  } catch (error) {
    if (error instanceof DistinguishedNameError) throw validationFailed(field, `${field} ${error.message}`);
    throw error;
  }
  return value.trim();
}

/** DNS names, lowercased and deduplicated; no wildcard (a wildcard names no one client). */
export function validateSanDns(value: unknown): string[] {
  const field = 'tls_client_auth_san_dns';
  if (!Array.isArray(value) || value.length > MAX_TLS_SAN_DNS) throw validationFailed(field, `${field} must be a list of at most ${MAX_TLS_SAN_DNS} DNS names`);
  return [
    ...new Set(
      value.map((name) => {
        const lower = typeof name === 'string' ? name.toLowerCase().replace(/\.$/, '') : '';
        if (!DNS_NAME.test(lower)) throw validationFailed(field, `${field} entries must be DNS names such as orders.example.com (no wildcard)`);
        return lower;
      }),
    ),
  ];
}

/**
 * What a client's methods need (RFC 8705 §2): tls_client_auth, exactly one way of naming its
 * certificate (a subject DN or DNS names: two would leave open which one counts);
 * self_signed_tls_client_auth, its certificates in `jwks` (`x5c`). Every certificate registered
 * must parse and hold its JWK's public key, so a key and the certificate beside it cannot disagree.
 */
export function checkTlsRegistration(client: TlsRegistrationFields): void {
  const methods = client.tokenEndpointAuthMethods;
  if (methods.includes('tls_client_auth') && (client.tlsClientAuthSubjectDn == null) === !client.tlsClientAuthSanDns?.length) {
    throw validationFailed(
      'tls_client_auth_subject_dn',
      'tls_client_auth needs exactly one of tls_client_auth_subject_dn or tls_client_auth_san_dns (RFC 8705 §2.1.2)',
    );
  }
  const keys = client.jwks?.keys ?? [];
  keys.forEach((key, index) => {
    if (key.x5c !== undefined) checkCertificateOfKey(key, `jwks.keys[${index}]`);
  });
  if (methods.includes('self_signed_tls_client_auth') && !keys.some((key) => key.x5c !== undefined)) {
    throw validationFailed('jwks', 'self_signed_tls_client_auth needs the client’s certificates: jwks keys with x5c (RFC 8705 §2.2)');
  }
}

function checkCertificateOfKey(key: Record<string, unknown>, at: string): void {
  const chain = key.x5c as string[];
  const certificates = chain.map((text, index) => {
    try {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new Error('not base64');
      return new X509Certificate(Buffer.from(text, 'base64'));
    } catch {
      throw validationFailed('jwks', `${at}.x5c[${index}] must be a base64 DER certificate`);
    }
  });
  const certified = certificates[0]!.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const members = Object.keys(certified).filter((member) => member !== 'kty');
  if (certified.kty !== key.kty || members.some((member) => certified[member] !== key[member])) {
    throw validationFailed('jwks', `${at}.x5c[0] certifies another key than ${at}: the first certificate must hold the key's public key`);
  }
}
