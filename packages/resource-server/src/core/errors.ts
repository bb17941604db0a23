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
  | 'temporarily_unavailable';

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
  | 'replay_store_unavailable';

const STATUS: Record<AuthErrorCode, number> = {
  missing_token: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  temporarily_unavailable: 503,
};

export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly status: number;

  constructor(
    readonly code: AuthErrorCode,
    /** Safe to send to the caller: never contains the token or key material. */
    readonly description: string,
    readonly reason: RejectionReason,
    /** For insufficient_scope: the scopes the route requires. */
    readonly requiredScopes: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(description, options);
    this.status = STATUS[code];
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
  // A 503 is not a challenge: the caller's credentials were never judged, so no WWW-Authenticate.
  const headers: Record<string, string> =
    error.code === 'temporarily_unavailable'
      ? { 'retry-after': '5', 'cache-control': 'no-store' }
      : { 'www-authenticate': `Bearer ${params.join(', ')}`, 'cache-control': 'no-store' };
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
