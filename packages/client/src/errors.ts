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

export function isTokenClientError(value: unknown): value is TokenClientError {
  return value instanceof TokenClientError;
}

/** True for a provider refusal with this OAuth error code (e.g. `isOAuthError(e, 'invalid_scope')`). */
export function isOAuthError(value: unknown, error?: string): value is TokenClientError & { code: 'oauth_error'; error: string } {
  return value instanceof TokenClientError && value.code === 'oauth_error' && (error === undefined || value.error === error);
}
