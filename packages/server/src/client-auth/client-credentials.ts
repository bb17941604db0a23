import { OAuthError, invalidRequest } from '../errors/oauth-error.js';
import type { FormParams } from '../protocol/form-params.js';
import type { PresentedCertificate } from '../protocol/token-request.js';
import { JWT_BEARER_ASSERTION_TYPE, JWT_SPIFFE_ASSERTION_TYPE } from '../federation/federation-rules.js';
import type { AssertionProfile } from '../federation/platform-token.js';
import { decodeJwt } from 'jose';

/** What the client presented to authenticate, before anything is checked against storage. */
export type PresentedCredentials =
  | { method: 'client_secret_basic' | 'client_secret_post'; clientId: string; secret: string }
  | { method: 'private_key_jwt'; clientId: string | undefined; assertion: string }
  /** A workload's platform token from a trusted issuer (workload identity federation). */
  | { method: 'federated'; profile: AssertionProfile; clientId: string | undefined; assertion: string }
  /** RFC 8705 §2: the TLS client certificate, for the client named by client_id (which of the two methods is the client's registration's to say). */
  | { method: 'mutual_tls'; clientId: string; certificate: PresentedCertificate };

export const CLIENT_AUTH_PARAMETERS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'] as const;

/**
 * Finds the one authentication method a token, introspection or revocation request uses
 * (RFC 6749 §2.3: a client MUST NOT use more than one). A TLS client certificate authenticates
 * only when nothing else does: a client that sends a secret or an assertion authenticates with
 * that, and its certificate can still bind its tokens.
 */
export function extractClientCredentials(
  authorization: string | undefined,
  params: FormParams,
  certificate?: PresentedCertificate | undefined,
): PresentedCredentials {
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');
  const assertion = params.get('client_assertion');
  const assertionType = params.get('client_assertion_type');
  const used = [authorization !== undefined, bodySecret !== undefined, assertion !== undefined].filter(Boolean).length;
  if (used > 1) {
    throw invalidRequest('Client authentication must use exactly one method (Basic header, client_secret or client_assertion).');
  }

  if (authorization !== undefined) {
    const basic = decodeBasicAuthorization(authorization);
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw invalidRequest('client_id in the body does not match the Authorization header.');
    }
    return { method: 'client_secret_basic', ...basic };
  }
  if (bodySecret !== undefined) {
    if (!bodyId) throw invalidClient('client_id is required with client_secret.');
    return { method: 'client_secret_post', clientId: bodyId, secret: bodySecret };
  }
  if (assertion !== undefined) {
    if (assertionType === JWT_SPIFFE_ASSERTION_TYPE) return { method: 'federated', profile: 'jwt-spiffe', clientId: bodyId, assertion };
    if (assertionType !== JWT_BEARER_ASSERTION_TYPE) {
      throw invalidRequest(`client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE} or ${JWT_SPIFFE_ASSERTION_TYPE}.`);
    }
    // A client's own key signs with iss = sub = its id (RFC 7523 §3); a platform names itself as iss.
    if (isSelfIssued(assertion)) return { method: 'private_key_jwt', clientId: bodyId, assertion };
    return { method: 'federated', profile: 'jwt-bearer', clientId: bodyId, assertion };
  }
  if (certificate) {
    if (!bodyId) throw invalidClient('client_id is required with a TLS client certificate.');
    return { method: 'mutual_tls', clientId: bodyId, certificate };
  }
  throw invalidClient('Client authentication is required.');
}

/** Whether iss = sub (or the assertion cannot be read: private_key_jwt then reports it malformed). */
function isSelfIssued(assertion: string): boolean {
  try {
    const { iss, sub } = decodeJwt(assertion);
    return iss === sub || typeof iss !== 'string';
  } catch {
    return true;
  }
}

/**
 * RFC 6749 §2.3.1 and Appendix B: the id and the secret are each form-urlencoded before being
 * joined with a colon and base64-encoded, so both may contain ':' or non-ASCII characters.
 */
export function decodeBasicAuthorization(header: string): { clientId: string; secret: string } {
  const match = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(header);
  if (!match) throw invalidClient('The Authorization header must use the Basic scheme with base64 credentials.');
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient('Basic credentials must be client_id:client_secret.');
  try {
    const clientId = formUrlDecode(decoded.slice(0, colon));
    const secret = formUrlDecode(decoded.slice(colon + 1));
    if (!clientId) throw invalidClient('Basic credentials carry an empty client_id.');
    return { clientId, secret };
  } catch (error) {
    if (error instanceof OAuthError) throw error;
    throw invalidClient('Basic credentials are not correctly form-urlencoded.');
  }
}

function formUrlDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

export const BASIC_CHALLENGE = 'Basic realm="m2m-auth", charset="UTF-8"';

/**
 * invalid_client is always a 401 with a challenge (RFC 6749 §5.2 requires one when the client
 * used the Authorization header; sending one every time tells every client how to authenticate).
 */
export function invalidClient(description: string, detail?: string, registeredClientId?: string): OAuthError {
  return new OAuthError('invalid_client', description, {
    status: 401,
    headers: { 'www-authenticate': BASIC_CHALLENGE },
    ...(detail ? { detail } : {}),
    registeredClientId,
  });
}
