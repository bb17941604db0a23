/**
 * One error type for every way a request can fail authentication or authorisation, carrying what
 * RFC 6750 §3 needs to answer it. Adapters never build responses themselves: they call
 * `toHttpResponse`, so Express and Fastify answer byte for byte alike.
 */
export type AuthErrorCode =
  /** No token at all: 401 with a bare challenge (RFC 6750 §3.1: no error code). */
  | 'missing_token'
  /** Malformed request: bad Authorization syntax, a token in two places. 400. */
  | 'invalid_request'
  /** Expired, not yet valid, bad signature, foreign issuer or audience … 401. */
  | 'invalid_token'
  /** Valid token without the scopes the route needs. 403. */
  | 'insufficient_scope'
  /** No key, introspection answer or replay check could be had: the caller is not at fault. 503. */
  | 'temporarily_unavailable'
  /** RFC 9449 §7.1: the DPoP proof is missing, malformed, for another request or key, or replayed. 401. */
  | 'invalid_dpop_proof'
  /** RFC 9449 §9: the proof must carry the nonce this answer hands out (DPoP-Nonce). 401. */
  | 'use_dpop_nonce';

/** Why a token was refused, finer than the wire code: for events, logs and metrics only. */
export type RejectionReason =
  | 'missing'
  | 'malformed_request'
  | 'malformed_token'
  | 'token_too_large'
  | 'algorithm_not_allowed'
  | 'unknown_key'
  | 'weak_key'
  | 'bad_signature'
  | 'wrong_type'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'missing_claim'
  | 'wrong_token_use'
  | 'inactive'
  /** An m2m-auth opaque token reached a verifier configured without introspection. */
  | 'opaque_not_introspected'
  | 'replayed'
  | 'insufficient_scope'
  | 'keys_unavailable'
  | 'introspection_unavailable'
  | 'replay_store_unavailable'
  /** DPoP (RFC 9449): no proof, or one that fails a check of §4.3 (its reason: DpopFailureReason). */
  | 'dpop_proof_missing'
  | 'dpop_proof_invalid'
  /** The proof was already presented (its jti, for its key). */
  | 'dpop_proof_replayed'
  /** The proof's key is not the one the token is bound to (cnf.jkt). */
  | 'dpop_key_mismatch'
  /** The proof carries no nonce, or not the current one. */
  | 'dpop_nonce_required'
  /** A DPoP-bound token presented as a bearer token (RFC 9449 §7.2). */
  | 'dpop_bound_token_as_bearer'
  /** A bearer token presented with the DPoP scheme, or to an API that accepts only DPoP-bound tokens. */
  | 'not_dpop_bound'
  /** Mutual TLS (RFC 8705): a certificate-bound token, and no client certificate with the request. */
  | 'client_certificate_missing'
  /** A certificate-bound token with another client certificate than the one it names (`cnf.x5t#S256`). */
  | 'client_certificate_mismatch'
  /** An unbound token at an API that accepts only certificate-bound tokens. */
  | 'not_certificate_bound';

const STATUS: Record<AuthErrorCode, number> = {
  missing_token: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  temporarily_unavailable: 503,
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
};

/** A DPoP challenge (RFC 9449 §7.1): the algorithms proofs may use, and for `use_dpop_nonce` the nonce to use. */
export interface DpopChallenge {
  /** Space-separated, e.g. `ES256 RS256 PS256 EdDSA`. */
  readonly algs: string;
  readonly nonce?: string | undefined;
}

export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly status: number;
  /** Set when the answer is a DPoP challenge (the request used DPoP, or the token needs it) instead of a Bearer one. */
  readonly dpop: DpopChallenge | undefined;

  constructor(
    readonly code: AuthErrorCode,
    /** Safe to send to the caller: never contains the token or key material. */
    readonly description: string,
    readonly reason: RejectionReason,
    /** For insufficient_scope: the scopes the route requires. */
    readonly requiredScopes: readonly string[] = [],
    options?: { cause?: unknown; dpop?: DpopChallenge },
  ) {
    super(description, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = STATUS[code];
    this.dpop = options?.dpop;
  }
}

/**
 * True for an AuthError, also one made by another copy of this package (two versions installed
 * side by side make `instanceof` fail): it matches on the name and the stable `code`, as ky's
 * type guards do.
 */
export function isAuthError(value: unknown): value is AuthError {
  if (value instanceof AuthError) return true;
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<keyof AuthError, unknown>>;
  return (
    candidate.name === 'AuthError' &&
    typeof candidate.code === 'string' &&
    Object.hasOwn(STATUS, candidate.code) &&
    typeof candidate.description === 'string' &&
    typeof candidate.reason === 'string' &&
    Array.isArray(candidate.requiredScopes)
  );
}

export const invalidToken = (description: string, reason: RejectionReason) => new AuthError('invalid_token', description, reason);
export const invalidRequest = (description: string, reason: RejectionReason = 'malformed_request') => new AuthError('invalid_request', description, reason);

export interface AuthHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string; scope?: string };
}

/**
 * RFC 6750 §3: the WWW-Authenticate challenge and a JSON body. Every header value is a quoted
 * string with `\` and `"` escaped, and only printable ASCII (RFC 7230 quoted-string).
 */
export function toHttpResponse(error: AuthError, realm: string): AuthHttpResponse {
  const params: string[] = [`realm=${quote(realm)}`];
  if (error.code !== 'missing_token') {
    params.push(`error=${quote(error.code)}`, `error_description=${quote(error.description)}`);
    if (error.code === 'insufficient_scope' && error.requiredScopes.length > 0) params.push(`scope=${quote(error.requiredScopes.join(' '))}`);
  }
  const dpop = error.dpop;
  if (dpop) params.push(`algs=${quote(dpop.algs)}`);
  // A 503 is not a challenge: the caller's credentials were never judged, so no WWW-Authenticate.
  const headers: Record<string, string> =
    error.code === 'temporarily_unavailable'
      ? { 'retry-after': '5', 'cache-control': 'no-store' }
      : { 'www-authenticate': `${dpop ? 'DPoP' : 'Bearer'} ${params.join(', ')}`, 'cache-control': 'no-store' };
  if (dpop?.nonce !== undefined && error.code !== 'temporarily_unavailable') headers['dpop-nonce'] = dpop.nonce;
  const body: AuthHttpResponse['body'] = {
    error: error.code === 'missing_token' ? 'unauthorized' : error.code,
    error_description: error.description,
  };
  if (error.code === 'insufficient_scope' && error.requiredScopes.length > 0) body.scope = error.requiredScopes.join(' ');
  // The status comes from the code, not the object: an error from another copy of the package
  // (see isAuthError) is answered the same way.
  return { status: STATUS[error.code], headers, body };
}

function quote(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '?').replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
