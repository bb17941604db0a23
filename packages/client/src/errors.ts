/**
 * Every failure of the client is a TokenClientError with a `code` to switch on. OAuth errors from
 * the provider keep its `error` and `error_description`; nothing here ever holds a credential.
 */
export type TokenClientErrorCode =
  /** The provider refused: `error` holds the RFC 6749 §5.2 code (invalid_client, invalid_scope …). */
  | 'oauth_error'
  /** The provider could not be reached or kept failing (network, 5xx, 429) within the retry budget. */
  | 'provider_unavailable'
  /** The provider answered 2xx with something that is not a token response. */
  | 'invalid_response'
  /** Discovery (RFC 8414 / OpenID configuration) failed. */
  | 'discovery_failed'
  /** The options cannot work (an http: endpoint off loopback, no credentials …). */
  | 'configuration_error'
  /** The client was closed. */
  | 'closed';

export class TokenClientError extends Error {
  override readonly name = 'TokenClientError';
  /** The OAuth error code when `code` is `oauth_error`. */
  readonly error: string | undefined;
  readonly errorDescription: string | undefined;
  /** HTTP status of the last answer, when there was one. */
  readonly status: number | undefined;
  /** Attempts made before giving up. */
  readonly attempts: number;

  constructor(
    readonly code: TokenClientErrorCode,
    message: string,
    details: { error?: string; errorDescription?: string; status?: number; attempts?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.error = details.error;
    this.errorDescription = details.errorDescription;
    this.status = details.status;
    this.attempts = details.attempts ?? 0;
  }
}

const CODES: ReadonlySet<string> = new Set<TokenClientErrorCode>([
  'oauth_error',
  'provider_unavailable',
  'invalid_response',
  'discovery_failed',
  'configuration_error',
  'closed',
]);

/**
 * True for a TokenClientError, also one made by another copy of this package (two versions
 * installed side by side make `instanceof` fail): it matches on the name and the stable `code`,
 * as ky's type guards do.
 */
export function isTokenClientError(value: unknown): value is TokenClientError {
  if (value instanceof TokenClientError) return true;
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { name?: unknown; code?: unknown; message?: unknown };
  return candidate.name === 'TokenClientError' && typeof candidate.code === 'string' && CODES.has(candidate.code) && typeof candidate.message === 'string';
}

/** True for a provider refusal with this OAuth error code (e.g. `isOAuthError(e, 'invalid_scope')`). */
export function isOAuthError(value: unknown, error?: string): value is TokenClientError & { code: 'oauth_error'; error: string } {
  return isTokenClientError(value) && value.code === 'oauth_error' && typeof value.error === 'string' && (error === undefined || value.error === error);
}
