import { OAuthError } from './oauth-error.js';
import { isDependencyUnavailable, type DependencyUnavailableError } from './dependency-unavailable.js';

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description?: string };
}

/**
 * The single place that decides what an error puts on the wire. An OAuthError goes out as
 * RFC 6749 §5.2 JSON; anything else becomes a bare `server_error` so no internal message,
 * stack or secret ever reaches a client.
 */
export function toOAuthResponse(error: unknown): WireResponse {
  if (isDependencyUnavailable(error)) error = temporarilyUnavailable(error);
  if (error instanceof OAuthError) {
    return {
      status: error.status,
      headers: { ...error.headers },
      body: { error: error.error, error_description: error.description },
    };
  }
  return {
    status: 500,
    headers: {},
    body: { error: 'server_error', error_description: 'The server could not complete the request.' },
  };
}

/**
 * A check or a read the server could not make (its database or shared state away): 503
 * `temporarily_unavailable` with Retry-After, since the request was not wrong and a retry may
 * succeed; the description says what could not be done, never which system or why.
 */
function temporarilyUnavailable(error: DependencyUnavailableError): OAuthError {
  return new OAuthError('temporarily_unavailable', error.description, {
    status: 503,
    headers: { 'retry-after': String(error.retryAfterSeconds) },
    detail: error.message,
  });
}
