import { OAuthError } from './oauth-error.js';
import { SharedStateUnavailableError, type RefusedOperation } from '../state/resilient-state.js';
import { isStorageUnavailable } from '../storage/types.js';

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
  if (error instanceof SharedStateUnavailableError) error = sharedStateUnavailable(error.operation);
  if (isStorageUnavailable(error)) error = storageUnavailable();
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

const UNAVAILABLE_DESCRIPTIONS: Record<RefusedOperation, string> = {
  useOnce: 'The client assertion cannot be checked against replay right now; retry shortly.',
  isTokenRevoked: 'The token’s revocation status cannot be checked right now; retry shortly.',
  revokeToken: 'The revocation cannot be recorded right now; retry shortly.',
};

/**
 * A fail-closed check the shared state could not make (Redis away). 503 `temporarily_unavailable`
 * with Retry-After: the request was not wrong, so not `invalid_client` (a client would take its
 * credentials for bad) nor `{"active": false}` at introspection (RFC 7662 §2.2 reserves that for a
 * token that is not active; a resource server caches it and tells its caller the token is
 * invalid). RFC 7009 §2.2.1 names 503 for a revocation the server cannot do now.
 */
function sharedStateUnavailable(operation: RefusedOperation): OAuthError {
  return new OAuthError('temporarily_unavailable', UNAVAILABLE_DESCRIPTIONS[operation], {
    status: 503,
    headers: { 'retry-after': '1' },
    detail: `shared state unavailable: ${operation} refused`,
  });
}

/**
 * The database could not be reached (PostgreSQL away): the same 503 `temporarily_unavailable`
 * with Retry-After as a shared-state outage, since the request was not wrong and a retry may
 * succeed; nothing about the database goes on the wire.
 */
function storageUnavailable(): OAuthError {
  return new OAuthError('temporarily_unavailable', 'The server cannot reach its database right now; retry shortly.', {
    status: 503,
    headers: { 'retry-after': String(STORAGE_RETRY_AFTER_SECONDS) },
    detail: 'storage unavailable',
  });
}

/** How long a caller is asked to wait when the database is away (pool connections are retried per request). */
export const STORAGE_RETRY_AFTER_SECONDS = 1;
